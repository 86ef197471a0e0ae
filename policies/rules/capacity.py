"""What a stack may run: approved instance types, and each team's GPUs and instances within quota.

Quotas count at *maximum* scale (autoscaling max, HPA maxReplicas or KEDA
maxReplicaCount), because that
is what the team can end up paying for on a bad day. ``infra.specs.capacity``
owns the arithmetic: it counts the same way from the settings (for
``modelfleet new-model``), and gives the quota lookup and units used here.

A Deployment's GPUs can be no more than its pool holds, so a team's GPUs on one
pool count at most at the pool's ceiling: a managed node group's ``maxSize`` x
its largest instance type's GPUs, or a Karpenter NodePool's
``limits["nvidia.com/gpu"]``, whichever capacity option the stack uses. Approved
instance types apply to a NodePool's instance-type requirement too.

A model placed on a shared endpoint counts its GPUs as its inference
component's accelerators per copy x its copy target's ``maxCapacity``, and no
instances: the shared endpoint's instances belong to the platform, which sizes
them (``max_instances``), so they count against no team's instance quota.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from infra.specs.capacity import QUOTA_RULES, UNITS, pool_capped, pool_ceiling, quota_for
from infra.specs.k8s_pods import POOL_LABEL
from policies.rules._support import as_list, gpus_per_instance, of_type, resource_rule, stack_rule, tags_of
from policies.rules.variants import COMPONENT, copy_target_of, copy_targets, provisioned_variants

GPU_RESOURCE = "nvidia.com/gpu"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
INSTANCE_TYPE_LABEL = "node.kubernetes.io/instance-type"
DEFAULT_ALLOWED = [
    *(f"ml.{family}.*" for family in ("t2", "m5", "m6i", "c5", "c6i", "r5", "g4dn", "g5", "g6", "g6e")),
    *(
        f"{family}.*"
        for family in ("t3", "m5", "m6i", "m7i", "c5", "c6i", "c7i", "r6i", "g4dn", "g5", "g6", "g6e")
    ),
]


def _node_pool_spec(props) -> dict:
    return (((props.get("spec") or {}).get("template") or {}).get("spec")) or {}


def _instance_types(props):
    for variant in as_list(props.get("productionVariants")) + as_list(props.get("shadowProductionVariants")):
        if variant.get("instanceType"):
            yield variant["instanceType"]
    yield from as_list(props.get("instanceTypes"))
    if props.get("instanceType"):
        yield props["instanceType"]
    for requirement in as_list(_node_pool_spec(props).get("requirements")):
        if requirement.get("key") == INSTANCE_TYPE_LABEL and requirement.get("operator") == "In":
            yield from as_list(requirement.get("values"))


def _allowed(props, config):
    for instance_type in _instance_types(props):
        if not any(fnmatchcase(instance_type, pattern) for pattern in config["allowed"]):
            yield f"instance type {instance_type} is not on this stack's approved list"


# What caps a Deployment's replicas: a plain HPA's maxReplicas, or a KEDA ScaledObject's
# maxReplicaCount (KEDA then makes the HPA itself, in the cluster, out of the plan's sight).
SCALERS = {
    "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": "maxReplicas",
    "kubernetes:keda.sh/v1alpha1:ScaledObject": "maxReplicaCount",
}


def pool_gpu_ceilings(resources) -> dict[str, int]:
    """The most GPUs each pool (by its ``modelfleet.io/pool`` label) can hold, whoever provides its nodes."""
    ceilings = {}
    for group in of_type(resources, NODE_GROUP):
        pool = (group.props.get("labels") or {}).get(POOL_LABEL)
        max_size = int((group.props.get("scalingConfig") or {}).get("maxSize") or 0)
        ceiling = pool_ceiling(as_list(group.props.get("instanceTypes")), max_size)
        if pool and ceiling.gpus:
            ceilings[pool] = ceiling.gpus
    for node_pool in of_type(resources, NODE_POOL):
        spec = node_pool.props.get("spec") or {}
        pool = (((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}).get(POOL_LABEL)
        limit = str((spec.get("limits") or {}).get(GPU_RESOURCE, ""))
        if pool and limit.isdigit():  # a NodePool without a GPU limit caps nothing
            ceilings[pool] = int(limit)
    return ceilings


def _deployments(resources):
    """(team, replicas at max, GPUs at max, pool, urn) for each Deployment."""
    namespaces = {
        (ns.props.get("metadata") or {}).get("name"): ((ns.props.get("metadata") or {}).get("labels") or {})
        for ns in of_type(resources, "kubernetes:core/v1:Namespace")
    }
    ceilings = {}
    for type_token, ceiling in SCALERS.items():
        for scaler in of_type(resources, type_token):
            meta, spec = scaler.props.get("metadata") or {}, scaler.props.get("spec") or {}
            target = (spec.get("scaleTargetRef") or {}).get("name")
            ceilings[(meta.get("namespace"), target)] = spec.get(ceiling)
    for deployment in of_type(resources, "kubernetes:apps/v1:Deployment"):
        meta, spec = deployment.props.get("metadata") or {}, deployment.props.get("spec") or {}
        pod = (spec.get("template") or {}).get("spec") or {}
        containers = as_list(pod.get("containers"))
        per_pod = sum(
            int((c.get("resources") or {}).get("limits", {}).get(GPU_RESOURCE, 0)) for c in containers
        )
        replicas = int(ceilings.get((meta.get("namespace"), meta.get("name"))) or spec.get("replicas") or 1)
        team = (meta.get("labels") or {}).get("team") or namespaces.get(meta.get("namespace"), {}).get("team")
        pool = (pod.get("nodeSelector") or {}).get(POOL_LABEL) or ""
        yield team, replicas, per_pod * replicas, pool, deployment.urn


def _variants(resources):
    """(team, instances at max, GPUs at max, no pool, urn) for each instance-backed SageMaker variant."""
    for variant in provisioned_variants(resources):
        gpus = (gpus_per_instance(variant.instance_type) or 0) * variant.max_count
        yield tags_of(variant.config.props).get("team"), variant.max_count, gpus, "", variant.config.urn


def _components(resources):
    """(team, no instances, GPUs at max copies, no pool, urn) for each inference component."""
    targets = copy_targets(resources)
    for component in of_type(resources, COMPONENT):
        spec = component.props.get("specification") or {}
        per_copy = int(
            (spec.get("computeResourceRequirements") or {}).get("numberOfAcceleratorDevicesRequired") or 0
        )
        target = copy_target_of(resources, component, targets)
        copies = (component.props.get("runtimeConfig") or {}).get("copyCount") or 1
        copies = int(target.props.get("maxCapacity", copies)) if target else int(copies)
        if not per_copy:
            continue  # a CPU-only copy counts against neither quota
        yield tags_of(component.props).get("team"), 0, per_copy * copies, "", component.urn


@dataclass
class TeamUsage:
    instances: int = 0  # SageMaker instances plus EKS replicas, at maximum scale
    gpus: int = 0
    urns: dict[str, str] = field(default_factory=dict)  # "instances"/"gpus" -> first resource counted


def team_usage(resources) -> dict[str, TeamUsage]:
    """What each team can scale to in this stack; untagged capacity counts as "(untagged)".

    A team's GPUs on a pool count at most at the pool's ceiling (``pool_gpu_ceilings``).
    """
    used: dict[str, TeamUsage] = defaultdict(TeamUsage)
    wanted: dict[tuple[str, str], int] = defaultdict(int)  # (team, pool) -> GPUs at max scale
    for team, count, gpus, pool, urn in [
        *_variants(resources),
        *_components(resources),
        *_deployments(resources),
    ]:
        usage = used[team or "(untagged)"]
        usage.instances += count
        wanted[(team or "(untagged)", pool)] += gpus
        if count:
            usage.urns.setdefault("instances", urn)
        if gpus:
            usage.urns.setdefault("gpus", urn)
    for team, gpus in pool_capped(wanted, pool_gpu_ceilings(resources)).items():
        used[team].gpus = gpus
    return dict(used)


def _over(resources, config, what: str, rule: str, unit: str):
    for team, usage in sorted(team_usage(resources).items()):
        quota = quota_for(config, team)
        if getattr(usage, what) > quota:
            message = (
                f"team {team} can scale to {getattr(usage, what)} {unit} in this stack; its quota is "
                f"{quota} (policy config {rule}.quotas.{team})"
            )
            yield message, usage.urns[what]


def _within_gpu_quota(resources, config):
    yield from _over(resources, config, "gpus", QUOTA_RULES["gpus"], UNITS["gpus"])


def _within_instance_quota(resources, config):
    yield from _over(resources, config, "instances", QUOTA_RULES["instances"], UNITS["instances"])


ALLOWED_INSTANCE_TYPES = resource_rule(
    "allowed-instance-types",
    "SageMaker variants, node groups, Karpenter NodePools and instances use approved instance types",
    [
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        "aws-native:sagemaker:EndpointConfig",
        NODE_GROUP,
        NODE_POOL,
        "aws:ec2/launchTemplate:LaunchTemplate",
        "aws:ec2/instance:Instance",
    ],
    _allowed,
    config={
        "allowed": {
            "type": "array",
            "items": {"type": "string"},
            "default": DEFAULT_ALLOWED,
            "description": "glob patterns of approved instance types, e.g. ml.g5.*",
        }
    },
)


def _quota_schema(what: str, default: int) -> dict:
    return {
        "quotas": {
            "type": "object",
            "additionalProperties": {"type": "integer", "minimum": 0},
            "default": {},
            "description": f"team -> {what} it may run in this stack at maximum scale",
        },
        "default_quota": {
            "type": "integer",
            "minimum": 0,
            "default": default,
            "description": f"{what} for a team the quotas do not list",
        },
    }


TEAM_GPU_QUOTA = stack_rule(
    "team-gpu-quota",
    "Each team's GPUs at maximum scale stay within its quota for this environment",
    _within_gpu_quota,
    config=_quota_schema("GPUs", 0),
)
TEAM_INSTANCE_QUOTA = stack_rule(
    "team-instance-quota",
    "Each team's SageMaker instances and EKS replicas at maximum scale stay within its quota",
    _within_instance_quota,
    config=_quota_schema("SageMaker instances plus EKS replicas", 20),
)

RULES = [ALLOWED_INSTANCE_TYPES, TEAM_GPU_QUOTA, TEAM_INSTANCE_QUOTA]
