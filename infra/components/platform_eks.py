"""How ``Platform`` wires the EKS side: the cluster, its GPU capacity, add-ons and every EKS model.

Kept apart from ``platform.py`` so each file reads in one pass. These functions
declare their resources with the ``Platform`` as parent: they sit in the resource
tree, and so carry the URNs, of the Platform's own children.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pulumi

from infra.components.eks.cluster_addons import ClusterAddons, ClusterAddonsArgs
from infra.components.eks.deploy_runner_access import DeployRunnerAccess, DeployRunnerAccessArgs
from infra.components.eks.eks_cluster import EksCluster, EksClusterArgs
from infra.components.eks.eks_model_service import EksModelService, EksModelServiceArgs
from infra.components.eks.gpu_node_pool import GpuNodePool, GpuNodePoolArgs
from infra.components.eks.image_mirrors import ImageMirrors, ImageMirrorsArgs, Mirror
from infra.components.eks.k8s_model_service import CaptureBucketRef
from infra.components.eks.karpenter import Karpenter, KarpenterArgs
from infra.components.eks.karpenter_interruption_queue import QUEUE_NAME_LIMIT
from infra.components.eks.karpenter_node_pool import KarpenterNodePool, KarpenterNodePoolArgs
from infra.components.eks.model_load_balancer import ModelLoadBalancerArgs
from infra.components.storage.access_log_bucket import AccessLogBucket, AccessLogBucketArgs
from infra.contracts import eks_versions, runtimes
from infra.settings.catalog import EksModel
from infra.settings.cluster import GpuPoolSettings
from infra.specs import alarm_specs, capacity, iam, k8s_pods, naming

DELIVERY_SOURCE = "aws:cloudwatch/logDeliverySource:LogDeliverySource"
DELIVERY_DESTINATION = "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination"

if TYPE_CHECKING:
    from infra.components.platform import Platform, PlatformArgs


def wire_eks(platform: Platform, name: str, args: PlatformArgs, env: str, stack_tags: dict[str, str]) -> None:
    """The cluster, its GPU capacity (node groups or Karpenter), add-ons, mirrors, and each EKS model."""
    settings, child, network = args.settings, pulumi.ResourceOptions(parent=platform), platform.network
    cluster_settings = settings.cluster
    assert cluster_settings is not None
    partition = iam.partition_for(settings.region)
    private = [s.id for s in network.private_subnets]
    platform.cluster = cluster = EksCluster(
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
    platform.deploy_runner = (
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
    platform.karpenter: Karpenter | None = None
    platform.gpu_pools: dict[str, GpuNodePool | KarpenterNodePool] = {}
    if cluster_settings.capacity == "karpenter":
        platform.karpenter = Karpenter(
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
        platform.gpu_pools[pool.name] = (
            karpenter_pool(platform, name, pool, private, stack_tags)
            if platform.karpenter
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
            cluster_autoscaler=platform.karpenter is None,
        ),
        child,
    )
    if settings.image_mirrors:
        ImageMirrors(
            f"{name}-image-mirrors",
            ImageMirrorsArgs(
                mirrors=[Mirror(m.prefix, m.upstream_url, m.credential_arn) for m in settings.image_mirrors],
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
        eks_model(platform, name, args, model, addons, access_logs, stack_tags)


def karpenter_pool(
    platform: Platform,
    name: str,
    pool: GpuPoolSettings,
    private: list[pulumi.Output[str]],
    stack_tags: dict[str, str],
) -> KarpenterNodePool:
    """One GPU pool as a Karpenter NodePool and its EC2NodeClass."""
    assert platform.cluster is not None and platform.karpenter is not None
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
            node_role_name=platform.karpenter.node_role.name,
            subnet_ids=private,
            # The group managed node groups join too (EKS's cluster security group).
            security_group_ids=[platform.cluster.cluster.vpc_config.cluster_security_group_id],
            provider=platform.cluster.provider,
            tags=stack_tags,
            depends_on=[platform.karpenter],
        ),
        pulumi.ResourceOptions(parent=platform),
    )


def eks_model(
    platform: Platform,
    name: str,
    args: PlatformArgs,
    model: EksModel,
    addons: ClusterAddons,
    access_logs: AccessLogBucket,
    stack_tags: dict[str, str],
) -> None:
    """One EKS model: its load balancer from the platform's settings, then its EksModelService."""
    settings, child, network = args.settings, pulumi.ResourceOptions(parent=platform), platform.network
    assert platform.cluster is not None and platform.alerts is not None
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
        topic_arn=platform.alerts.arn,
        tags={**stack_tags, "team": model.team, "model": model.name},
        certificate_arn=certificate,
        access_log_destination_arn=access_logs.destination.arn,
        cluster_name=platform.cluster.cluster_name,
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
            cluster_name=platform.cluster.cluster_name,
            cluster_arn=platform.cluster.cluster.arn,
            account_id=args.account_id,
            partition=iam.partition_for(settings.region),
            provider=platform.cluster.provider,
            load_balancer_subnet_cidrs=[str(c) for c in subnets or []],
            tags=stack_tags,
            depends_on=[*addons.releases.values(), platform.gpu_pools[model.eks.pool]],
            capture=(
                CaptureBucketRef(platform.capture.bucket.bucket, platform.capture.key.arn)
                if platform.capture is not None and model.captures
                else None
            ),
        ),
        child,
    )
    platform.eks_services[model.name] = service.balancer
    if model.drift_on:  # under the model's own component, as on SageMaker
        dashboard = naming.dashboard(settings.environment, model.name)  # its serving one is Grafana's
        platform.drift_monitor(name, args, model, service, dashboard)
