"""A managed node group of GPU instances that only GPU workloads may land on.

Nodes carry the taint ``nvidia.com/gpu=true:NoSchedule`` and labels naming the
pool and the GPU, so a model's pods tolerate the taint and select their pool.
cluster-autoscaler owns the desired size between the pool's bounds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.components.eks.node_launch_template import node_launch_template
from infra.specs.k8s_pods import GPU_TAINT, pool_labels

AMI_TYPES = {"al2023": "AL2023_x86_64_NVIDIA", "bottlerocket": "BOTTLEROCKET_x86_64_NVIDIA"}


@dataclass
class GpuNodePoolArgs:
    """One pool's name, instances, AMI, capacity and size bounds, and the cluster it joins."""

    pool: str  # the pool's name: its node label and gpu-pool tag, which models select it by
    cluster_name: pulumi.Input[str]  # the EKS cluster the nodes join
    node_role_arn: pulumi.Input[str]  # ARN of the cluster's node role, which the instances run as
    subnet_ids: Sequence[pulumi.Input[str]]  # private subnets the nodes are launched in
    instance_types: Sequence[str]  # EC2 GPU instance types, e.g. g5.xlarge
    gpu_model: str  # the GPU's name (from the instance facts) for the node label, e.g. A10G
    ami: str  # al2023 | bottlerocket
    capacity: str  # on_demand | spot
    min_size: int  # fewest nodes; also the size the group starts at
    max_size: int  # most nodes cluster-autoscaler may scale the group to
    root_volume_gib: int  # GiB of the volume images live on (the root volume, or Bottlerocket's data volume)
    max_unavailable_percent: int  # percent of nodes replaced at once during an update, 1 to 100
    tags: Mapping[str, str]  # the stack's tags, on the node group, its template, instances and volumes
    node_role_policies: Sequence[pulumi.Resource] = ()  # the node role's attachments: nodes join only after


class GpuNodePool(pulumi.ComponentResource):
    """A GPU node group that only pods tolerating the GPU taint land on, sized by cluster-autoscaler."""

    node_group: aws.eks.NodeGroup

    def __init__(self, name: str, args: GpuNodePoolArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("modelfleet:eks:GpuNodePool", name, None, opts)
        tags = {**args.tags, "gpu-pool": args.pool}
        template = node_launch_template(f"{name}-template", args.ami, args.root_volume_gib, tags, self)
        self.node_group = aws.eks.NodeGroup(
            f"{name}-nodes",
            cluster_name=args.cluster_name,
            node_role_arn=args.node_role_arn,
            subnet_ids=list(args.subnet_ids),
            ami_type=AMI_TYPES[args.ami],
            instance_types=list(args.instance_types),
            capacity_type=args.capacity.upper(),
            scaling_config={
                "min_size": args.min_size,
                "max_size": args.max_size,
                "desired_size": args.min_size,
            },
            update_config={"max_unavailable_percentage": args.max_unavailable_percent},
            labels=pool_labels(args.pool, args.gpu_model, args.ami),
            taints=[GPU_TAINT],
            launch_template={"id": template.id, "version": template.latest_version.apply(str)},
            tags=tags,
            # cluster-autoscaler moves the desired size; the stack owns the bounds.
            opts=pulumi.ResourceOptions(
                parent=self,
                ignore_changes=["scalingConfig.desiredSize"],
                depends_on=list(args.node_role_policies),
            ),
        )
        self.register_outputs({"node_group": self.node_group.node_group_name})
