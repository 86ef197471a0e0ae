"""The whole stack as one component: maps validated settings onto the layers.

This is the only component that sees ``PlatformSettings``; each layer below it
receives typed Args. ``modelfleet:cluster.capacity`` decides who provides GPU
nodes: a managed node group per pool with cluster-autoscaler, or Karpenter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws_native as aws_native

from infra.components.eks.cluster_addons import ClusterAddons, ClusterAddonsArgs
from infra.components.eks.deploy_runner_access import DeployRunnerAccess, DeployRunnerAccessArgs
from infra.components.eks.eks_cluster import EksCluster, EksClusterArgs
from infra.components.eks.eks_model_service import EksModelService, EksModelServiceArgs
from infra.components.eks.gpu_node_pool import GpuNodePool, GpuNodePoolArgs
from infra.components.eks.image_mirrors import ImageMirrors, ImageMirrorsArgs, Mirror
from infra.components.eks.karpenter import Karpenter, KarpenterArgs
from infra.components.eks.karpenter_interruption_queue import QUEUE_NAME_LIMIT
from infra.components.eks.karpenter_node_pool import KarpenterNodePool, KarpenterNodePoolArgs
from infra.components.eks.model_load_balancer import ModelLoadBalancer, ModelLoadBalancerArgs
from infra.components.network.network import Network, NetworkArgs
from infra.components.observability.alerts_topic import AlertsTopic, AlertsTopicArgs
from infra.components.sagemaker.sagemaker_model_endpoint import (
    SageMakerModelEndpoint,
    SageMakerModelEndpointArgs,
)
from infra.components.storage.access_log_bucket import AccessLogBucket, AccessLogBucketArgs
from infra.components.storage.data_capture_bucket import DataCaptureBucket, DataCaptureBucketArgs
from infra.contracts import eks_versions, runtimes
from infra.settings.catalog import EksModel
from infra.settings.cluster import GpuPoolSettings
from infra.settings.platform import PlatformSettings
from infra.specs import alarm_specs, capacity, iam, k8s_pods, naming, sagemaker_specs, tags


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


DELIVERY_SOURCE = "aws:cloudwatch/logDeliverySource:LogDeliverySource"
DELIVERY_DESTINATION = "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination"


class Platform(pulumi.ComponentResource):
    """The stack as one node: the only component that reads settings, wiring both backends' models in."""

    network: Network
    model_endpoints: dict[str, SageMakerModelEndpoint]

    def __init__(self, name: str, args: PlatformArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("modelfleet:platform:Platform", name, None, opts)
        settings, child = args.settings, pulumi.ResourceOptions(parent=self)
        env, stack_tags = settings.environment, tags.base(settings)
        self.network = Network(f"{name}-network", network_args(args), child)
        self.model_endpoints = {}
        self.alerts: AlertsTopic | None = None
        if settings.models:
            self.alerts = self._alerts(name, args, env, stack_tags)
        if settings.sagemaker_models:
            self._sagemaker(name, args, env, stack_tags)
        self.eks_services: dict[str, ModelLoadBalancer] = {}
        self.cluster: EksCluster | None = None
        self.deploy_runner: DeployRunnerAccess | None = None
        if settings.cluster:
            self._eks(name, args, env, stack_tags)
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

    def _eks(self, name: str, args: PlatformArgs, env: str, stack_tags: dict[str, str]) -> None:
        settings, child, network = args.settings, pulumi.ResourceOptions(parent=self), self.network
        cluster_settings = settings.cluster
        assert cluster_settings is not None
        partition = iam.partition_for(settings.region)
        private = [s.id for s in network.private_subnets]
        self.cluster = cluster = EksCluster(
            f"{name}-eks",
            EksClusterArgs(
                cluster_name=naming.name(env, max_length=100),
                key_alias=naming.name(env, "eks"),
                region=settings.region,
                account_id=args.account_id,
                partition=partition,
                version=cluster_settings.version,
                upgrade_policy=cluster_settings.upgrade_policy,
                subnet_ids=private,
                public_access_cidrs=[str(c) for c in cluster_settings.endpoint_public_access_cidrs],
                private_access_cidrs=[str(c) for c in cluster_settings.private_access_cidrs],
                admin_role_arns=cluster_settings.admin_role_arns,
                log_types=cluster_settings.log_types,
                log_retention_days=settings.retention.log_days,
                system_instance_type=cluster_settings.system_nodes.instance_type,
                system_min_size=cluster_settings.system_nodes.min_size,
                system_max_size=cluster_settings.system_nodes.max_size,
                tags=stack_tags,
                protect=settings.protect_stateful,
            ),
            child,
        )
        self.deploy_runner = (
            DeployRunnerAccess(
                f"{name}-deploy-runner",
                DeployRunnerAccessArgs(
                    vpc_id=network.vpc_id,
                    cluster_security_group_id=cluster.cluster.vpc_config.cluster_security_group_id,
                    name_prefix=naming.name(env),
                    tags=stack_tags,
                ),
                child,
            )
            if cluster_settings.deploy_runner_in_vpc
            else None
        )
        # GPU capacity: a managed node group per pool that cluster-autoscaler resizes, or
        # Karpenter with a NodePool per pool; model services wait for their pool either way.
        self.karpenter: Karpenter | None = None
        self.gpu_pools: dict[str, GpuNodePool | KarpenterNodePool] = {}
        if cluster_settings.capacity == "karpenter":
            self.karpenter = Karpenter(
                f"{name}-karpenter",
                KarpenterArgs(
                    cluster_name=cluster.cluster_name,
                    cluster_arn=cluster.cluster.arn,
                    kubernetes_version=cluster_settings.version,
                    region=settings.region,
                    partition=partition,
                    account_id=args.account_id,
                    queue_name=naming.name(env, "karpenter", max_length=QUEUE_NAME_LIMIT),
                    provider=cluster.provider,
                    tags=stack_tags,
                ),
                child,
            )
        for pool in settings.gpu_pools:
            self.gpu_pools[pool.name] = (
                self._karpenter_pool(name, pool, private, stack_tags)
                if self.karpenter
                else GpuNodePool(
                    f"{name}-gpu-{pool.name}",
                    GpuNodePoolArgs(
                        pool=pool.name,
                        cluster_name=cluster.cluster_name,
                        node_role_arn=cluster.node_role.arn,
                        node_role_policies=cluster.node_role_policies,
                        subnet_ids=private,
                        instance_types=pool.instance_types,
                        gpu_model=pool.gpu_model,
                        ami=pool.ami,
                        capacity=pool.capacity,
                        min_size=pool.min_size,
                        max_size=pool.max_size,
                        root_volume_gib=pool.root_volume_gib,
                        max_unavailable_percent=pool.max_unavailable_percent,
                        tags=stack_tags,
                    ),
                    child,
                )
            )
        addons = ClusterAddons(
            f"{name}-addons",
            ClusterAddonsArgs(
                cluster_name=cluster.cluster_name,
                cluster_arn=cluster.cluster.arn,
                kubernetes_version=cluster_settings.version,
                region=settings.region,
                partition=partition,
                account_id=args.account_id,
                vpc_id=network.vpc_id,
                vpc_arn=network.vpc.arn,
                provider=cluster.provider,
                tags=stack_tags,
                cluster_autoscaler=self.karpenter is None,
            ),
            child,
        )
        if settings.image_mirrors:
            ImageMirrors(
                f"{name}-image-mirrors",
                ImageMirrorsArgs(
                    mirrors=[
                        Mirror(m.prefix, m.upstream_url, m.credential_arn) for m in settings.image_mirrors
                    ],
                    region=settings.region,
                    partition=partition,
                    account_id=args.account_id,
                    node_role_name=cluster.node_role.name,
                ),
                child,
            )
        access_logs = AccessLogBucket(
            f"{name}-lb-access-logs",
            AccessLogBucketArgs(
                bucket_prefix=naming.name(env, "lb-logs-", max_length=naming.BUCKET_PREFIX_LIMIT),
                destination_name=naming.name(
                    env, "lb-access-logs", max_length=naming.AWS_NAME_LIMITS[DELIVERY_DESTINATION]
                ),
                key_alias=naming.name(env, "lb-access-logs"),
                region=settings.region,
                account_id=args.account_id,
                partition=partition,
                retention_days=settings.retention.log_days,
                tags=stack_tags,
                protect=settings.protect_stateful,
            ),
            child,
        )
        for model in settings.eks_models:
            self._eks_model(name, args, model, addons, access_logs, stack_tags)

    def _karpenter_pool(
        self, name: str, pool: GpuPoolSettings, private: list[pulumi.Output[str]], stack_tags: dict[str, str]
    ) -> KarpenterNodePool:
        assert self.cluster is not None and self.karpenter is not None
        ceiling = capacity.pool_ceiling(pool.instance_types, pool.max_size)
        return KarpenterNodePool(
            f"{name}-gpu-{pool.name}",
            KarpenterNodePoolArgs(
                pool=pool.name,
                gpu_model=pool.gpu_model,
                instance_types=pool.instance_types,
                capacity=pool.capacity,
                gpu_limit=ceiling.gpus,
                cpu_limit=ceiling.vcpus,
                root_volume_gib=pool.root_volume_gib,
                disruption_budget_percent=pool.max_unavailable_percent,
                ami_alias=f"al2023@{eks_versions.KARPENTER_AMI_RELEASE}",
                node_role_name=self.karpenter.node_role.name,
                subnet_ids=private,
                # The group managed node groups join too (EKS's cluster security group).
                security_group_ids=[self.cluster.cluster.vpc_config.cluster_security_group_id],
                provider=self.cluster.provider,
                tags=stack_tags,
                depends_on=[self.karpenter],
            ),
            pulumi.ResourceOptions(parent=self),
        )

    def _eks_model(
        self,
        name: str,
        args: PlatformArgs,
        model: EksModel,
        addons: ClusterAddons,
        access_logs: AccessLogBucket,
        stack_tags: dict[str, str],
    ) -> None:
        settings, child, network = args.settings, pulumi.ResourceOptions(parent=self), self.network
        assert self.cluster is not None and self.alerts is not None
        label = naming.name(settings.environment, model.name)
        public = model.eks.internet_facing
        assert settings.cluster is not None
        certificate = model.eks.certificate_arn or settings.cluster.load_balancer_certificate_arn
        contract = runtimes.contract(model.runtime)
        assert certificate is not None  # settings refuse an eks model without one
        balancer = ModelLoadBalancerArgs(
            label=label,
            access_log_source_name=naming.name(
                settings.environment, model.name, max_length=naming.AWS_NAME_LIMITS[DELIVERY_SOURCE]
            ),
            vpc_id=network.vpc_id,
            vpc_cidr=str(settings.network.cidr),
            private_subnet_ids=[s.id for s in network.private_subnets],
            public_subnet_ids=[s.id for s in network.public_subnets],
            weights={v: s.weight for v, s in model.variants.items()},
            alarm_specs=alarm_specs.load_balancer_alarms(settings.environment, model, label),
            topic_arn=self.alerts.arn,
            tags={**stack_tags, "team": model.team, "model": model.name},
            certificate_arn=certificate,
            access_log_destination_arn=access_logs.destination.arn,
            cluster_name=self.cluster.cluster_name,
            target_port=contract.port,
            health_check_path=contract.ready_path,
            deregistration_delay_seconds=model.eks.drain_seconds,
            internet_facing=public,
            waf_acl_arn=model.eks.waf_acl_arn,
            deletion_protection=settings.protect_stateful,
        )
        subnets = settings.network.public_subnet_cidrs if public else settings.network.private_subnet_cidrs
        service = EksModelService(
            f"{name}-{model.name}",
            EksModelServiceArgs(
                service=k8s_pods.service_spec(model, settings.region),
                balancer=balancer,
                cluster_name=self.cluster.cluster_name,
                cluster_arn=self.cluster.cluster.arn,
                account_id=args.account_id,
                partition=iam.partition_for(settings.region),
                provider=self.cluster.provider,
                load_balancer_subnet_cidrs=[str(c) for c in subnets or []],
                tags=stack_tags,
                depends_on=[*addons.releases.values(), self.gpu_pools[model.eks.pool]],
            ),
            child,
        )
        self.eks_services[model.name] = service.balancer

    def _sagemaker(self, name: str, args: PlatformArgs, env: str, stack_tags: dict[str, str]) -> None:
        settings, child, alerts = args.settings, pulumi.ResourceOptions(parent=self), self.alerts
        assert alerts is not None
        # An explicit provider: the Endpoint needs aws-native, pinned to the stack's region.
        native = aws_native.Provider(f"{name}-aws-native", region=settings.region, opts=child)
        capture = None
        if any(m.data_capture.sampling_percent for m in settings.sagemaker_models):
            capture = DataCaptureBucket(
                f"{name}-data-capture",
                DataCaptureBucketArgs(
                    bucket_prefix=naming.name(env, "capture-", max_length=naming.BUCKET_PREFIX_LIMIT),
                    key_alias=naming.name(env, "data-capture"),
                    account_id=args.account_id,
                    partition=iam.partition_for(settings.region),
                    tags=stack_tags,
                    retention_days=settings.retention.data_capture_days,
                    protect=settings.protect_stateful,
                ),
                child,
            )
        network = self.network
        for model in settings.sagemaker_models:
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
