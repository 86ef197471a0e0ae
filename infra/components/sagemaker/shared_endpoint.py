"""One SageMaker endpoint whose instances several models share as inference components.

The endpoint configuration has one production variant with no model: the
instance type, managed instance scaling (down to zero instances when every
component may scale to zero) and the routing strategy. It names the execution
role every component runs as, since inference components have no model of
their own to carry one (SageMaker requires ``ExecutionRoleArn`` then), and the
VPC their containers' network interfaces go in. Each placed model is then an
``InferenceComponent`` child.

aws-native's ``EndpointConfig`` is used because pulumi-aws's has no VPC config
or network isolation for inference-component endpoints. A configuration is
immutable: its name carries a hash of its content, so a changed one is created
beside the old before the endpoint switches to it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_aws_native as aws_native

from infra.components.observability.dashboards import shared_endpoint_body
from infra.components.observability.encrypted_log_group import EncryptedLogGroup, EncryptedLogGroupArgs
from infra.components.observability.serving_alarms import ServingAlarms, ServingAlarmsArgs
from infra.components.sagemaker.inference_component import VARIANT, InferenceComponent, InferenceComponentArgs
from infra.components.sagemaker.model_execution_role import ModelExecutionRole, ModelExecutionRoleArgs
from infra.components.sagemaker.model_network import HttpsOnlyNetwork, https_only_vpc_config
from infra.specs import iam, naming
from infra.specs.alarm_specs import FLEET
from infra.specs.component_specs import SharedEndpointSpec
from infra.specs.model_record import dashboard_url


@dataclass
class SharedEndpointArgs:
    """One shared endpoint (from ``component_specs.shared_endpoint_spec``) and the platform it plugs into."""

    spec: SharedEndpointSpec  # instances, scaling, routing, role reach and the placed models
    environment: str  # dev, staging or prod: the log key's alias
    region: str  # the dashboard's and the log key's region
    account_id: pulumi.Input[str]  # scopes the role's trust and the key's policy to this account
    partition: pulumi.Input[str]  # aws, aws-cn or aws-us-gov: the ARNs in policies
    network: HttpsOnlyNetwork  # private subnets, and HTTPS to AWS only
    vpc_arn: pulumi.Input[str]  # the execution role manages network interfaces in this VPC only
    alerts_topic_arn: pulumi.Input[str]  # where the components' alarms notify
    native_provider: pulumi.ProviderResource  # aws-native, pinned to the stack's region
    tags: Mapping[str, str]  # the stack's tags; the component adds team and the shared endpoint's name
    log_retention_days: int = 30  # the endpoint's log group; CloudWatch Logs' fixed set of values
    protect: bool = False  # protect the log group and its key from deletion (prod)


class SharedEndpoint(pulumi.ComponentResource):
    """A fleet of instances and the models packed onto it, each scaling and updating on its own."""

    endpoint_name: str
    components: dict[str, InferenceComponent]

    def __init__(self, name: str, args: SharedEndpointArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("modelfleet:sagemaker:SharedEndpoint", name, None, opts)
        spec, child = args.spec, pulumi.ResourceOptions(parent=self)
        tags = {**args.tags, "team": spec.team, "shared-endpoint": spec.name}
        self.endpoint_name = spec.endpoint_name
        logs = EncryptedLogGroup(
            f"{name}-logs",
            EncryptedLogGroupArgs(
                log_group_name=f"/aws/sagemaker/Endpoints/{spec.endpoint_name}",
                key_alias=naming.name(args.environment, "shared", spec.name, "endpoint"),
                description=f"SageMaker shared endpoint {spec.endpoint_name}: volumes and logs",
                region=args.region,
                account_id=args.account_id,
                partition=args.partition,
                retention_days=args.log_retention_days,
                tags=tags,
                protect=args.protect,
            ),
            opts=child,
        )
        role = ModelExecutionRole(
            f"{name}-execution",
            ModelExecutionRoleArgs(
                account_id=args.account_id,
                artifact_arns=list(spec.artifact_arns),
                repository_arns=list(spec.repository_arns),
                log_group_arn=logs.log_group.arn,
                key_arn=logs.key.arn,
                vpc_arn=args.vpc_arn,
                weight_prefixes=list(spec.weight_prefixes),
                partition=iam.partition_for(args.region),
                tags=tags,
            ),
            opts=child,
        )
        vpc_config = https_only_vpc_config(
            self, name, args.network, f"SageMaker shared endpoint {spec.name}", tags
        )
        variant = {
            "variant_name": VARIANT,
            "instance_type": spec.instance_type,
            "initial_instance_count": spec.initial_instances,
            "managed_instance_scaling": {
                "status": "ENABLED",
                "min_instance_count": spec.min_instances,
                "max_instance_count": spec.max_instances,
                "scale_in_policy": {
                    "strategy": "IDLE_RELEASE",
                    "cooldown_in_minutes": spec.scale_in_cooldown_minutes,
                },
            },
            "routing_config": {"routing_strategy": spec.routing},
        }
        config = aws_native.sagemaker.EndpointConfig(
            f"{name}-config",
            endpoint_config_name=_config_name(args.environment, spec, variant),
            production_variants=[variant],
            execution_role_arn=role.arn,
            vpc_config=vpc_config,
            enable_network_isolation=spec.network_isolation,
            # Instance-store volumes are hardware-encrypted and SageMaker refuses a key for them.
            kms_key_id=logs.key.arn if spec.encrypt_volume else None,
            tags=[{"key": k, "value": v} for k, v in sorted(tags.items())],
            opts=pulumi.ResourceOptions(parent=self, provider=args.native_provider, depends_on=[role.policy]),
        )
        self.endpoint = aws_native.sagemaker.Endpoint(
            f"{name}-endpoint",
            endpoint_name=spec.endpoint_name,
            endpoint_config_name=config.endpoint_config_name,
            # A new config keeps the instance count managed scaling reached.
            retain_all_variant_properties=True,
            tags=[{"key": k, "value": v} for k, v in sorted(tags.items())],
            opts=pulumi.ResourceOptions(
                parent=self, provider=args.native_provider, depends_on=[logs.log_group]
            ),
        )
        fleet = ServingAlarms(
            f"{name}-alarms",
            ServingAlarmsArgs(
                dimensions={FLEET: {"EndpointName": spec.endpoint_name, "VariantName": VARIANT}},
                specs=list(spec.alarms),
                topic_arn=args.alerts_topic_arn,
                tags=tags,
            ),
            opts=child,
        )
        self.components = {}
        for component in spec.components:
            self.components[component.model_name] = InferenceComponent(
                f"{name}-{component.model_name}",
                InferenceComponentArgs(
                    spec=component,
                    endpoint_name=self.endpoint.endpoint_name,
                    alerts_topic_arn=args.alerts_topic_arn,
                    native_provider=args.native_provider,
                    tags={**args.tags, "team": component.team, "model": component.model_name},
                ),
                opts=child,
            )
        rows = [(c.component_name, c.p99_slo_ms) for c in spec.components]
        aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            dashboard_name=spec.endpoint_name,
            dashboard_body=json.dumps(shared_endpoint_body(args.region, spec.endpoint_name, rows, spec.gpus)),
            opts=child,
        )
        self.dashboard_url = dashboard_url(args.region, spec.endpoint_name)
        self.register_outputs(
            {
                "endpoint_name": self.endpoint.endpoint_name,
                "components": {m: c.component_name for m, c in self.components.items()},
                "dashboard_url": self.dashboard_url,
                "alarm_names": [alarm.name for alarm in fleet.alarms.values()],
            }
        )


def _config_name(environment: str, spec: SharedEndpointSpec, variant: dict) -> str:
    """``modelfleet-<env>-shared-<name>-<hash>``: a new name for new content (configs are immutable)."""
    content = json.dumps([variant, spec.network_isolation, spec.encrypt_volume], sort_keys=True)
    digest = hashlib.sha256(content.encode()).hexdigest()[:8]
    return naming.name(environment, "shared", spec.name, digest)
