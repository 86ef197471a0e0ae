"""What a stack may run: approved instance types, and each team's GPUs within its quota.

Quotas count GPUs at *maximum* scale (autoscaling max, HPA maxReplicas), because
that is what the team can end up paying for on a bad day.
"""

from __future__ import annotations

from collections import defaultdict
from fnmatch import fnmatchcase

from policies.rules._links import provisioned_variants
from policies.rules._support import as_list, gpus_per_instance, of_type, resource_rule, stack_rule, tags_of

GPU_RESOURCE = "nvidia.com/gpu"
DEFAULT_ALLOWED = [
    *(f"ml.{family}.*" for family in ("t2", "m5", "m6i", "c5", "c6i", "r5", "g4dn", "g5", "g6", "g6e")),
    *(
        f"{family}.*"
        for family in ("t3", "m5", "m6i", "m7i", "c5", "c6i", "c7i", "r6i", "g4dn", "g5", "g6", "g6e")
    ),
]


def _instance_types(props):
    for variant in as_list(props.get("productionVariants")) + as_list(props.get("shadowProductionVariants")):
        if variant.get("instanceType"):
            yield variant["instanceType"]
    yield from as_list(props.get("instanceTypes"))
    if props.get("instanceType"):
        yield props["instanceType"]


def _allowed(props, config):
    for instance_type in _instance_types(props):
        if not any(fnmatchcase(instance_type, pattern) for pattern in config["allowed"]):
            yield f"instance type {instance_type} is not on this stack's approved list"


def _deployment_gpus(resources):
    """(team, GPUs at max replicas, urn) for each Deployment that asks for GPUs."""
    namespaces = {
        (ns.props.get("metadata") or {}).get("name"): ((ns.props.get("metadata") or {}).get("labels") or {})
        for ns in of_type(resources, "kubernetes:core/v1:Namespace")
    }
    ceilings = {}
    for hpa in of_type(resources, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"):
        meta, spec = hpa.props.get("metadata") or {}, hpa.props.get("spec") or {}
        ceilings[(meta.get("namespace"), (spec.get("scaleTargetRef") or {}).get("name"))] = spec.get(
            "maxReplicas"
        )
    for deployment in of_type(resources, "kubernetes:apps/v1:Deployment"):
        meta, spec = deployment.props.get("metadata") or {}, deployment.props.get("spec") or {}
        containers = as_list(((spec.get("template") or {}).get("spec") or {}).get("containers"))
        per_pod = sum(
            int((c.get("resources") or {}).get("limits", {}).get(GPU_RESOURCE, 0)) for c in containers
        )
        if not per_pod:
            continue
        replicas = ceilings.get((meta.get("namespace"), meta.get("name"))) or spec.get("replicas") or 1
        team = (meta.get("labels") or {}).get("team") or namespaces.get(meta.get("namespace"), {}).get("team")
        yield team, per_pod * int(replicas), deployment.urn


def _endpoint_gpus(resources):
    for variant in provisioned_variants(resources):
        gpus = gpus_per_instance(variant.instance_type) or 0
        if gpus:
            yield tags_of(variant.config.props).get("team"), gpus * variant.max_count, variant.config.urn


def _within_quota(resources, config):
    used, where = defaultdict(int), {}
    for team, gpus, urn in [*_endpoint_gpus(resources), *_deployment_gpus(resources)]:
        used[team or "(untagged)"] += gpus
        where.setdefault(team or "(untagged)", urn)
    for team, gpus in sorted(used.items()):
        quota = config["quotas"].get(team, config["default_quota"])
        if gpus > quota:
            yield (
                (
                    f"team {team} can scale to {gpus} GPUs in this stack; its quota is {quota} "
                    f"(policy config team-gpu-quota.quotas.{team})"
                ),
                where[team],
            )


ALLOWED_INSTANCE_TYPES = resource_rule(
    "allowed-instance-types",
    "SageMaker variants, node groups and instances use approved instance types",
    [
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        "aws:eks/nodeGroup:NodeGroup",
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
TEAM_GPU_QUOTA = stack_rule(
    "team-gpu-quota",
    "Each team's GPUs at maximum scale stay within its quota for this environment",
    _within_quota,
    config={
        "quotas": {
            "type": "object",
            "additionalProperties": {"type": "integer", "minimum": 0},
            "default": {},
            "description": "team -> GPUs it may run in this stack at maximum scale",
        },
        "default_quota": {
            "type": "integer",
            "minimum": 0,
            "default": 0,
            "description": "GPUs for a team the quotas do not list",
        },
    },
)

RULES = [ALLOWED_INSTANCE_TYPES, TEAM_GPU_QUOTA]
