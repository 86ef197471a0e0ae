"""EKS: private control plane, audited, in support, IMDSv2 on every node, GPUs kept for GPU work.

Nodes come from managed node groups (and their launch templates) or, with
``capacity: karpenter``, from Karpenter NodePools and EC2NodeClasses: the taint and
IMDSv2 rules read each in its own shape.
"""

from __future__ import annotations

from infra.contracts import eks_versions
from policies.rules._support import as_list, gpus_per_instance, resource_rule

CLUSTER = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
GPU_TAINT = "nvidia.com/gpu"


def _is_gpu_group(props) -> bool:
    ami = str(props.get("amiType") or "")
    return (
        "NVIDIA" in ami
        or "GPU" in ami
        or any(gpus_per_instance(t) for t in as_list(props.get("instanceTypes")))
    )


def _gpu_tainted(props, _config):
    if not _is_gpu_group(props):
        return
    taints = as_list(props.get("taints"))
    if not any(t.get("key") == GPU_TAINT and t.get("effect") == "NO_SCHEDULE" for t in taints):
        yield f"GPU node group lacks the {GPU_TAINT}:NoSchedule taint, so any pod may land on GPU nodes"


def _node_pool_template(props) -> tuple[dict, dict]:
    template = (props.get("spec") or {}).get("template") or {}
    return template.get("metadata") or {}, template.get("spec") or {}


def _node_pool_tainted(props, _config):
    """A NodePool of GPU nodes (by label or instance type) taints them, in Kubernetes' spelling."""
    metadata, spec = _node_pool_template(props)
    types = [
        value
        for requirement in as_list(spec.get("requirements"))
        if requirement.get("key") == "node.kubernetes.io/instance-type"
        and requirement.get("operator") == "In"
        for value in as_list(requirement.get("values"))
    ]
    gpu = (metadata.get("labels") or {}).get("nvidia.com/gpu.present") == "true" or any(
        gpus_per_instance(t) for t in types
    )
    taints = as_list(spec.get("taints"))
    if gpu and not any(t.get("key") == GPU_TAINT and t.get("effect") == "NoSchedule" for t in taints):
        yield f"GPU NodePool lacks the {GPU_TAINT}:NoSchedule taint, so any pod may land on its nodes"


def _imdsv2(props, config):
    if "scalingConfig" in props:  # a managed node group: the launch template decides
        if not props.get("launchTemplate"):
            yield "node group has no launch template, so IMDSv2 and the hop limit are not enforced"
        return
    yield from _metadata_options(props.get("metadataOptions") or {}, config)


def _node_class_imdsv2(props, config):
    """An EC2NodeClass keeps them under its spec, spelled as in a launch template."""
    yield from _metadata_options((props.get("spec") or {}).get("metadataOptions") or {}, config)


def _metadata_options(metadata, config):
    if metadata.get("httpTokens") != "required":
        yield "instance metadata accepts IMDSv1 (metadataOptions.httpTokens must be 'required')"
    hops = metadata.get("httpPutResponseHopLimit")
    if hops is None or int(hops) > config["max_hop_limit"]:
        limit = config["max_hop_limit"]
        yield f"metadata hop limit is {hops} (at most {limit}, so pods cannot borrow node credentials)"


def _private_endpoint(props, _config):
    if (props.get("vpcConfig") or {}).get("endpointPublicAccess", True) is not False:
        yield "EKS API endpoint is reachable from the internet (vpcConfig.endpointPublicAccess)"


def _control_plane_logs(props, config):
    missing = sorted(set(config["log_types"]) - set(as_list(props.get("enabledClusterLogTypes"))))
    if missing:
        yield f"EKS control-plane logs off for: {', '.join(missing)}"


def _supported_version(props, config):
    """Judged on today's date, from EKS's calendar in infra/contracts/eks_versions.py (one owner)."""
    version = eks_versions.VERSIONS.get(str(props.get("version")))
    if version is None:
        yield f"Kubernetes {props.get('version')} has no pinned add-ons or support dates in modelfleet"
        return
    support = version.support(eks_versions.today())
    if support is eks_versions.Support.ENDED:
        yield f"Kubernetes {version.minor} left EKS extended support on {version.end_of_extended.isoformat()}"
    elif support is eks_versions.Support.EXTENDED and not config["allow_extended_support"]:
        yield (
            f"Kubernetes {version.minor} left standard support on {version.end_of_standard.isoformat()} "
            "and is billed at the extended-support rate"
        )


GPU_NODE_GROUP_TAINTED = resource_rule(
    "eks-gpu-node-group-tainted",
    "GPU node groups and Karpenter NodePools carry the nvidia.com/gpu NoSchedule taint",
    {NODE_GROUP: _gpu_tainted, NODE_POOL: _node_pool_tainted},
)
IMDSV2_REQUIRED = resource_rule(
    "imdsv2-required",
    "Instances, node groups and Karpenter node classes require IMDSv2 with a hop limit pods cannot cross",
    {
        "aws:ec2/launchTemplate:LaunchTemplate": _imdsv2,
        "aws:ec2/instance:Instance": _imdsv2,
        NODE_GROUP: _imdsv2,
        NODE_CLASS: _node_class_imdsv2,
    },
    config={"max_hop_limit": {"type": "integer", "minimum": 1, "maximum": 64, "default": 1}},
)
EKS_ENDPOINT_PRIVATE = resource_rule(
    "eks-endpoint-private",
    "The EKS API endpoint is private",
    [CLUSTER],
    _private_endpoint,
)
EKS_CONTROL_PLANE_LOGS = resource_rule(
    "eks-control-plane-logs",
    "EKS control-plane logs are on for the API, audit and authenticator",
    [CLUSTER],
    _control_plane_logs,
    config={
        "log_types": {
            "type": "array",
            "items": {"enum": ["api", "audit", "authenticator", "controllerManager", "scheduler"]},
            "default": ["api", "audit", "authenticator"],
        }
    },
)

EKS_VERSION_SUPPORTED = resource_rule(
    "eks-version-supported",
    "The cluster runs a Kubernetes version in EKS standard support (extended support only if allowed)",
    [CLUSTER],
    _supported_version,
    config={"allow_extended_support": {"type": "boolean", "default": False}},
)

RULES = [
    GPU_NODE_GROUP_TAINTED,
    IMDSV2_REQUIRED,
    EKS_ENDPOINT_PRIVATE,
    EKS_CONTROL_PLANE_LOGS,
    EKS_VERSION_SUPPORTED,
]
