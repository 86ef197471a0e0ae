"""Composition root: stack config -> settings -> Platform -> exports. Nothing else.

``pulumi up`` and the offline ``modelfleet plan`` both run this very file.
"""

import sys
from pathlib import Path

if __package__ in (None, "") and (root := str(Path(__file__).resolve().parents[1])) not in sys.path:
    # Pulumi runs this file by path (Pulumi.yaml `main: infra/`), so the project
    # root is not on sys.path yet; the offline plan engine runs it the same way.
    sys.path.insert(0, root)

import pulumi
import pulumi_aws as aws
from pulumi.runtime.config import CONFIG, get_config_env

from infra.components.platform import Platform, PlatformArgs
from infra.contracts.serving import INVOKE_PATH
from infra.settings.platform import SettingsError, load_settings, settings_warnings
from infra.specs.model_record import model_record
from infra.specs.stack_images import unpinned_warnings

# The CLI hands config to the program as PULUMI_CONFIG; tests and the plan engine
# set it in-process. Both are read whole so that unknown keys can be rejected.
try:
    settings = load_settings(pulumi.get_stack(), {**get_config_env(), **CONFIG.get()})
except SettingsError as error:
    raise pulumi.RunError(str(error)) from None  # a clean message, no traceback
for warning in settings_warnings(settings):
    pulumi.log.warn(warning)
if settings.cluster is not None:
    # Add-on and init-container images the digest table cannot pin yet, one line each.
    for warning in unpinned_warnings(
        settings.cluster.version, model_pods=bool(settings.eks_models), capacity=settings.cluster.capacity
    ):
        pulumi.log.warn(warning)

# Every standard zone, whatever its state today: filtering by "available" would
# shift the list, and so the subnets, whenever a zone is impaired.
zones = settings.network.availability_zones or sorted(
    aws.get_availability_zones(
        filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}],  # no Local Zones
    ).names
)
if len(zones) < settings.network.az_count:
    raise pulumi.RunError(
        f"modelfleet:network.az_count is {settings.network.az_count} but {settings.region} "
        f"has {len(zones)} available zones: {', '.join(zones)}"
    )

platform = Platform(
    "platform",
    PlatformArgs(
        settings=settings,
        availability_zones=zones,
        account_id=aws.get_caller_identity_output().account_id,
    ),
)

network = platform.network
pulumi.export("environment", settings.environment)
pulumi.export("region", settings.region)
pulumi.export("vpc_id", network.vpc_id)
pulumi.export("public_subnet_ids", network.public_subnet_ids)
pulumi.export("private_subnet_ids", network.private_subnet_ids)
pulumi.export("nat_gateway_count", len(network.nat_gateways))
pulumi.export("endpoint_security_group_id", network.endpoints.security_group.id)
pulumi.export("flow_log_group", network.flow_logs.log_group.name)
# One record per model, whichever backend serves it (infra.specs.model_record: the day-2
# tools build the same from the stack file), plus what only a deployment knows.
models = {m.name: model_record(settings.environment, settings.region, m) for m in settings.models}
for name, balancer in platform.eks_services.items():
    dns = balancer.load_balancer.dns_name
    models[name] |= {
        "load_balancer_dns": dns,
        "invoke_url": pulumi.Output.concat("https://", dns, INVOKE_PATH),
    }
pulumi.export("models", models)
if platform.team_registry is not None:  # where each team registers its model versions
    pulumi.export(
        "model_package_groups",
        {t: g.model_package_group_name for t, g in platform.team_registry.groups.items()},
    )
if platform.package_approvals:  # exported so the run waits for the registry's answers (prod)
    pulumi.export("model_package_approvals", platform.package_approvals)
if platform.rollout_history is not None:
    # Where the day-2 commands record each rollout, abort and promote (modelfleet history).
    pulumi.export("rollout_history_log_group", platform.rollout_history.log_group.name)
if platform.cluster is not None:
    pulumi.export("cluster_name", platform.cluster.cluster_name)
if platform.deploy_runner is not None:
    # Launch the deploy runner into private_subnet_ids with this group (docs/deploy-runner.md).
    pulumi.export("deploy_runner_security_group_id", platform.deploy_runner.security_group.id)
