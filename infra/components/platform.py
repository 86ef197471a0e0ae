"""The whole stack as one component: maps validated settings onto the layers.

This is the only component that sees ``PlatformSettings``; each layer below it
receives typed Args. ``modelfleet:cluster.capacity`` decides who provides GPU
nodes: a managed node group per pool with cluster-autoscaler, or Karpenter.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws_native as aws_native

from infra.components.eks.deploy_runner_access import DeployRunnerAccess
from infra.components.eks.eks_cluster import EksCluster
from infra.components.eks.model_load_balancer import ModelLoadBalancer
from infra.components.network.network import Network, NetworkArgs
from infra.components.observability.alerts_topic import AlertsTopic, AlertsTopicArgs
from infra.components.observability.drift_monitor import DriftMonitor, DriftMonitorArgs
from infra.components.observability.encrypted_log_group import EncryptedLogGroup, EncryptedLogGroupArgs
from infra.components.platform_eks import wire_eks
from infra.components.sagemaker.model_network import HttpsOnlyNetwork
from infra.components.sagemaker.sagemaker_model_endpoint import (
    SageMakerModelEndpoint,
    SageMakerModelEndpointArgs,
)
from infra.components.sagemaker.shared_endpoint import SharedEndpoint, SharedEndpointArgs
from infra.components.sagemaker.team_model_registry import TeamModelRegistry, TeamModelRegistryArgs
from infra.components.storage.data_capture_bucket import DataCaptureBucket, DataCaptureBucketArgs
from infra.settings.catalog import ModelBase
from infra.settings.platform import PlatformSettings
from infra.settings.tiers import Tier
from infra.specs import component_specs, drift_specs, iam, naming, registry, sagemaker_specs, tags


@dataclass
class PlatformArgs:
    """A validated stack and the two facts only the account can tell."""

    settings: PlatformSettings  # the stack file after its tier's defaults and every check
    availability_zones: Sequence[str]  # at least settings.network.az_count, region order
    account_id: pulumi.Input[str]  # the deploying account: key policies, trust and bucket conditions


def network_args(args: PlatformArgs) -> NetworkArgs:
    settings, net = args.settings, args.settings.network
    return NetworkArgs(
        environment=settings.environment,
        region=settings.region,
        account_id=args.account_id,
        partition=iam.partition_for(settings.region),
        cidr=str(net.cidr),
        availability_zones=list(args.availability_zones[: net.az_count]),
        public_subnet_cidrs=[str(c) for c in net.public_subnet_cidrs or []],
        private_subnet_cidrs=[str(c) for c in net.private_subnet_cidrs or []],
        nat_gateway_count=net.nat_gateway_count,
        interface_endpoints=list(net.interface_endpoints),
        flow_log_retention_days=net.flow_logs.retention_days,
        flow_log_traffic_type=net.flow_logs.traffic_type,
        flow_log_aggregation_seconds=net.flow_logs.max_aggregation_interval_seconds,
        tags=tags.base(settings),
        protect=settings.protect_stateful,
    )


class Platform(pulumi.ComponentResource):
    """The stack as one node: the only component that reads settings, wiring both backends' models in."""

    network: Network
    model_endpoints: dict[str, SageMakerModelEndpoint]
    drift_monitors: dict[str, DriftMonitor]
    shared_endpoints: dict[str, SharedEndpoint]

    def __init__(self, name: str, args: PlatformArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("modelfleet:platform:Platform", name, None, opts)
        settings, child = args.settings, pulumi.ResourceOptions(parent=self)
        env, stack_tags = settings.environment, tags.base(settings)
        self.network = Network(f"{name}-network", network_args(args), child)
        self.model_endpoints = {}
        self.drift_monitors = {}
        self.shared_endpoints = {}
        # Package ARN -> its approval status, read from the registry in prod; a status other
        # than Approved fails the preview (the program exports these, so it waits for them).
        self.package_approvals: dict[str, pulumi.Output[str]] = {}
        self.alerts: AlertsTopic | None = None
        self.rollout_history: EncryptedLogGroup | None = None
        if settings.models:
            self.alerts = self._alerts(name, args, env, stack_tags)
            self.rollout_history = self._rollout_history(name, args, env, stack_tags)
        self.capture: DataCaptureBucket | None = None
        if settings.capturing_models:  # SageMaker's data capture and EKS containers write here
            self.capture = DataCaptureBucket(
                f"{name}-data-capture",
                DataCaptureBucketArgs(
                    bucket_prefix=naming.name(env, "capture-", max_length=naming.BUCKET_PREFIX_LIMIT),
                    key_alias=naming.name(env, "data-capture"),
                    account_id=args.account_id,
                    partition=iam.partition_for(settings.region),
                    tags=stack_tags,
                    retention_days=settings.retention.data_capture_days,
                    protect=settings.protect_stateful,
                    expiry_prefixes=drift_specs.expiring_prefixes(env, settings.capturing_models),
                ),
                child,
            )
        if settings.sagemaker_models:
            self._sagemaker(name, args, env, stack_tags)
        self.team_registry: TeamModelRegistry | None = None
        if settings.teams:
            self.team_registry = TeamModelRegistry(
                f"{name}-registry",
                TeamModelRegistryArgs(
                    environment=env,
                    teams={team: list(t.role_arns) for team, t in settings.teams.items()},
                    tags=stack_tags,
                ),
                child,
            )
        self.eks_services: dict[str, ModelLoadBalancer] = {}
        self.cluster: EksCluster | None = None
        self.deploy_runner: DeployRunnerAccess | None = None
        if settings.cluster:
            wire_eks(self, name, args, env, stack_tags)
        self.register_outputs({"vpc_id": self.network.vpc_id})

    def _alerts(self, name: str, args: PlatformArgs, env: str, stack_tags: dict[str, str]) -> AlertsTopic:
        settings = args.settings
        return AlertsTopic(
            f"{name}-alerts",
            AlertsTopicArgs(
                topic_name=naming.name(env, "alarms", max_length=256),
                key_alias=naming.name(env, "alarms"),
                region=settings.region,
                account_id=args.account_id,
                partition=iam.partition_for(settings.region),
                tags=stack_tags,
                emails=settings.alerts.emails,
                protect=settings.protect_stateful,
            ),
            pulumi.ResourceOptions(parent=self),
        )

    def _rollout_history(
        self, name: str, args: PlatformArgs, env: str, stack_tags: dict[str, str]
    ) -> EncryptedLogGroup:
        """Where rollout, rollout abort and promote record who did what and how it ended
        (``infra.ops.history``; ``modelfleet history`` reads it)."""
        settings = args.settings
        group = naming.rollout_history_log_group(env)
        return EncryptedLogGroup(
            f"{name}-rollout-history",
            EncryptedLogGroupArgs(
                log_group_name=group,
                key_alias=naming.name(env, "rollouts"),
                description=f"rollout history of stack {env} in {group}",
                region=settings.region,
                account_id=args.account_id,
                partition=iam.partition_for(settings.region),
                retention_days=settings.retention.log_days,
                tags=stack_tags,
                protect=settings.protect_stateful,
            ),
            pulumi.ResourceOptions(parent=self),
        )

    def _sagemaker(self, name: str, args: PlatformArgs, env: str, stack_tags: dict[str, str]) -> None:
        settings, child, alerts = args.settings, pulumi.ResourceOptions(parent=self), self.alerts
        assert alerts is not None
        # An explicit provider: the Endpoint needs aws-native, pinned to the stack's region.
        native = aws_native.Provider(f"{name}-aws-native", region=settings.region, opts=child)
        capture, network, https_only = self.capture, self.network, self.https_only(settings)
        for shared in settings.shared_endpoints:
            self.shared_endpoints[shared.name] = SharedEndpoint(
                f"{name}-shared-{shared.name}",
                SharedEndpointArgs(
                    spec=component_specs.shared_endpoint_spec(
                        env, settings.region, settings.owner, shared, settings.placed_on(shared.name)
                    ),
                    environment=env,
                    region=settings.region,
                    account_id=args.account_id,
                    partition=iam.partition_for(settings.region),
                    network=https_only,
                    vpc_arn=network.vpc.arn,
                    alerts_topic_arn=alerts.arn,
                    native_provider=native,
                    tags=stack_tags,
                    log_retention_days=settings.retention.log_days,
                    protect=settings.protect_stateful,
                ),
                child,
            )
        if settings.tier is Tier.PROD:
            self.package_approvals = {
                arn: aws_native.sagemaker.get_model_package_output(
                    model_package_arn=arn, opts=pulumi.InvokeOutputOptions(provider=native)
                ).model_approval_status.apply(functools.partial(_approved, arn, where))
                for arn, where in registry.packages(settings.models).items()
            }
        for model in settings.sagemaker_models:
            if model.placed:
                continue
            self.model_endpoints[model.name] = SageMakerModelEndpoint(
                f"{name}-{model.name}",
                SageMakerModelEndpointArgs(
                    spec=sagemaker_specs.endpoint_spec(env, settings.region, model),
                    environment=env,
                    region=settings.region,
                    account_id=args.account_id,
                    partition=iam.partition_for(settings.region),
                    vpc_id=network.vpc_id,
                    vpc_arn=network.vpc.arn,
                    vpc_cidr=str(settings.network.cidr),
                    subnet_ids=[s.id for s in network.private_subnets],
                    s3_prefix_list_id=network.endpoints.endpoints["s3"].prefix_list_id,
                    alerts_topic_arn=alerts.arn,
                    native_provider=native,
                    tags=stack_tags,
                    capture_bucket=capture.bucket.bucket if capture else None,
                    capture_key_arn=capture.key.arn if capture else None,
                    log_retention_days=settings.retention.log_days,
                    protect=settings.protect_stateful,
                ),
                child,
            )
            if model.drift_on:  # under the model's own component: a model stays one node of the tree
                self.drift_monitor(name, args, model, self.model_endpoints[model.name])

    def https_only(self, settings: PlatformSettings) -> HttpsOnlyNetwork:
        """Private subnets, with HTTPS to the VPC's endpoints and S3 only: for SageMaker's containers."""
        network = self.network
        return HttpsOnlyNetwork(
            network.vpc_id,
            str(settings.network.cidr),
            [s.id for s in network.private_subnets],
            network.endpoints.endpoints["s3"].prefix_list_id,
        )

    def drift_monitor(
        self,
        name: str,
        args: PlatformArgs,
        model: ModelBase,
        parent: pulumi.Resource,
        dashboard_name: str | None = None,
    ) -> DriftMonitor:
        """The scheduled drift job of a model whose drift is on (the settings hold it to capturing models);
        ``dashboard_name`` when the model has no CloudWatch dashboard to draw its drift row on."""
        settings = args.settings
        assert self.capture is not None and self.alerts is not None
        monitor = DriftMonitor(
            f"{name}-{model.name}-drift",
            DriftMonitorArgs(
                spec=drift_specs.drift_spec(settings.environment, settings.region, model),
                region=settings.region,
                account_id=args.account_id,
                partition=iam.partition_for(settings.region),
                capture_bucket=self.capture.bucket.bucket,
                capture_key_arn=self.capture.key.arn,
                network=self.https_only(settings),
                vpc_arn=self.network.vpc.arn,
                alerts_topic_arn=self.alerts.arn,
                tags=tags.base(settings),
                dashboard_name=dashboard_name,
            ),
            pulumi.ResourceOptions(parent=parent),
        )
        self.drift_monitors[model.name] = monitor
        return monitor


def _approved(arn: str, where: str, status: str | None) -> str:
    """The package's status, or the preview stops with the package and its status."""
    plain = None if status is None else str(getattr(status, "value", status))  # the SDK's enum
    if problem := registry.approval_problem(arn, plain, where):
        raise pulumi.RunError(problem)
    return str(plain)
