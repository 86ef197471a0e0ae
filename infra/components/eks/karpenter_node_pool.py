"""One GPU pool under Karpenter: an EC2NodeClass (how its nodes boot) and a NodePool (what it may launch).

The Karpenter counterpart of ``gpu_node_pool.py``, with the same contract towards
model pods: nodes carry the GPU taint and the pool's labels (``k8s_pods``), boot the
EKS-optimized AL2023 image (``alias: al2023@<release>``; Karpenter picks its NVIDIA
variant for GPU instance types), require IMDSv2 with a hop limit of 1, and keep
images on an encrypted gp3 root volume. Field names are those of the v1 CRDs
(``karpenter.sh/v1`` NodePool, ``karpenter.k8s.aws/v1`` EC2NodeClass) at the chart
version pinned in ``eks_versions.CHARTS``.

Disruption, chosen for serving:
- consolidation only removes *empty* nodes (``WhenEmpty``), after ten quiet minutes,
  so it never evicts a serving pod to repack GPUs, and a node that just emptied
  (an HPA scale-in) is not replaced a minute later at startup and model-load cost;
- the budget lets at most ``max_unavailable_percent`` of the pool's nodes go at once
  (the same knob as a node group's update budget), and Karpenter starts and readies
  a drifted node's replacement before draining it;
- ``expireAfter: Never``: expiration is the one voluntary-looking disruption budgets
  do not limit, and with a pinned AMI release it would replace nodes with the same
  image. Nodes are renewed by drift when the pinned release changes, within the budget;
- no ``terminationGracePeriod``: a drain waits for PodDisruptionBudgets and each pod's
  own grace period (preStop, then draining in-flight requests) instead of cutting them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from infra.components.eks.node_launch_template import DATA_DEVICE
from infra.specs.k8s_pods import GPU_NODE_TAINT, pool_labels

NODE_POOL_API = "karpenter.sh/v1"
NODE_CLASS_API = "karpenter.k8s.aws/v1"
CAPACITY_TYPES = {"on_demand": "on-demand", "spot": "spot"}  # settings -> karpenter.sh/capacity-type
CONSOLIDATE_AFTER = "10m"
AMI_FAMILY = "al2023"


def node_class_spec(
    *,
    ami_alias: str,
    node_role_name: pulumi.Input[str],
    subnet_ids: Sequence[pulumi.Input[str]],
    security_group_ids: Sequence[pulumi.Input[str]],
    root_volume_gib: int,
    tags: Mapping[str, str],
) -> dict[str, Any]:
    """An EC2NodeClass spec: the image, network, instance metadata and disk of a pool's nodes."""
    return {
        "role": node_role_name,
        "amiSelectorTerms": [{"alias": ami_alias}],
        "subnetSelectorTerms": [{"id": subnet} for subnet in subnet_ids],
        "securityGroupSelectorTerms": [{"id": group} for group in security_group_ids],
        "metadataOptions": {
            "httpEndpoint": "enabled",
            "httpProtocolIPv6": "disabled",
            "httpPutResponseHopLimit": 1,  # pods get credentials from Pod Identity, never the node's
            "httpTokens": "required",
        },
        "blockDeviceMappings": [
            {
                "deviceName": DATA_DEVICE[AMI_FAMILY],
                "ebs": {
                    "volumeSize": f"{root_volume_gib}Gi",
                    "volumeType": "gp3",
                    "encrypted": True,
                    "deleteOnTermination": True,
                },
            }
        ],
        "tags": dict(tags),
    }


def node_pool_spec(
    *,
    pool: str,
    gpu_model: str,
    node_class: str,
    instance_types: Sequence[str],
    capacity: str,
    gpu_limit: int,
    cpu_limit: int,
    disruption_budget_percent: int,
) -> dict[str, Any]:
    """A NodePool spec: which instances, labelled and tainted how, up to which limits, disrupted how."""
    return {
        "template": {
            "metadata": {"labels": pool_labels(pool, gpu_model, AMI_FAMILY)},
            "spec": {
                "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": node_class},
                "requirements": [
                    {
                        "key": "node.kubernetes.io/instance-type",
                        "operator": "In",
                        "values": list(instance_types),
                    },
                    {
                        "key": "karpenter.sh/capacity-type",
                        "operator": "In",
                        "values": [CAPACITY_TYPES[capacity]],
                    },
                ],
                "taints": [GPU_NODE_TAINT],
                "expireAfter": "Never",
            },
        },
        "limits": {"nvidia.com/gpu": gpu_limit, "cpu": cpu_limit},
        "disruption": {
            "consolidationPolicy": "WhenEmpty",
            "consolidateAfter": CONSOLIDATE_AFTER,
            "budgets": [{"nodes": f"{disruption_budget_percent}%"}],
        },
    }


@dataclass
class KarpenterNodePoolArgs:
    """One pool's instances, capacity type, limits and disk, and where its nodes join."""

    pool: str  # the pool's name: its node label and gpu-pool tag, which models select it by
    gpu_model: str  # the GPU's name (from the instance facts) for the node label, e.g. L4
    instance_types: Sequence[str]  # EC2 GPU instance types the NodePool may launch, e.g. g6.xlarge
    capacity: str  # on_demand | spot
    gpu_limit: int  # most GPUs the pool's nodes may have together: max_size x the largest type's GPUs
    cpu_limit: int  # most vCPUs the pool's nodes may have together: max_size x the largest type's vCPUs
    root_volume_gib: int  # GiB of the encrypted gp3 root volume, where images live
    disruption_budget_percent: int  # percent of the pool's nodes Karpenter may disrupt at once, 1 to 100
    ami_alias: str  # amiSelectorTerms alias, e.g. al2023@v20260714 (eks_versions.KARPENTER_AMI_RELEASE)
    node_role_name: pulumi.Input[str]  # name of the IAM role the nodes run as (Karpenter's node role)
    subnet_ids: Sequence[pulumi.Input[str]]  # private subnets the nodes are launched in
    security_group_ids: Sequence[pulumi.Input[str]]  # the cluster security group, as managed node groups get
    provider: k8s.Provider  # the cluster's Kubernetes provider, from EksCluster
    tags: Mapping[str, str]  # the stack's tags, on every instance, volume and interface Karpenter launches
    depends_on: Sequence[pulumi.Resource] = ()  # Karpenter itself: its CRDs must exist first


class KarpenterNodePool(pulumi.ComponentResource):
    """A GPU pool Karpenter launches nodes for: only pods tolerating the GPU taint land there."""

    node_class: k8s.apiextensions.CustomResource
    node_pool: k8s.apiextensions.CustomResource

    def __init__(self, name: str, args: KarpenterNodePoolArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("modelfleet:eks:KarpenterNodePool", name, None, opts)
        on_cluster = pulumi.ResourceOptions(
            parent=self, provider=args.provider, depends_on=list(args.depends_on)
        )
        object_name = f"gpu-{args.pool}"
        self.node_class = k8s.apiextensions.CustomResource(
            f"{name}-node-class",
            api_version=NODE_CLASS_API,
            kind="EC2NodeClass",
            metadata={"name": object_name},
            spec=node_class_spec(
                ami_alias=args.ami_alias,
                node_role_name=args.node_role_name,
                subnet_ids=args.subnet_ids,
                security_group_ids=args.security_group_ids,
                root_volume_gib=args.root_volume_gib,
                tags={**args.tags, "gpu-pool": args.pool},
            ),
            opts=on_cluster,
        )
        self.node_pool = k8s.apiextensions.CustomResource(
            f"{name}-node-pool",
            api_version=NODE_POOL_API,
            kind="NodePool",
            metadata={"name": object_name},
            spec=node_pool_spec(
                pool=args.pool,
                gpu_model=args.gpu_model,
                node_class=object_name,
                instance_types=args.instance_types,
                capacity=args.capacity,
                gpu_limit=args.gpu_limit,
                cpu_limit=args.cpu_limit,
                disruption_budget_percent=args.disruption_budget_percent,
            ),
            opts=pulumi.ResourceOptions.merge(
                on_cluster, pulumi.ResourceOptions(depends_on=[self.node_class])
            ),
        )
        self.register_outputs({"node_pool": object_name})
