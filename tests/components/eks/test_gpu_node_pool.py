"""GpuNodePool under Pulumi's mocks: a tainted, labelled managed node group EKS accepts."""

from __future__ import annotations

import pytest

from infra.components.eks.gpu_node_pool import AMI_TYPES, GpuNodePool, GpuNodePoolArgs
from infra.specs.k8s_pods import GPU_TAINT, GPU_TOLERATION
from tests.components.support import TAGS, Recorded, direct_children, known, outside, record_component

COMPONENT = "modelfleet:eks:GpuNodePool"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
SUBNETS = ["subnet-a", "subnet-b", "subnet-c"]
NODE_ROLE = "arn:aws:iam::111122223333:role/modelfleet-test-node"


def build(**changes) -> Recorded:
    fields = {
        "pool": "g5",
        "cluster_name": known("modelfleet-test"),
        "node_role_arn": known(NODE_ROLE),
        "subnet_ids": [known(s) for s in SUBNETS],
        "instance_types": ["g5.xlarge", "g5.2xlarge"],
        "gpu_model": "a10g",
        "ami": "al2023",
        "capacity": "on_demand",
        "min_size": 1,
        "max_size": 4,
        "root_volume_gib": 200,
        "max_unavailable_percent": 25,
        "tags": TAGS,
        **changes,
    }
    return record_component(lambda: GpuNodePool("gpu-g5", GpuNodePoolArgs(**fields)))


@pytest.fixture(scope="module")
def recorded() -> Recorded:
    return build()


@pytest.fixture(scope="module")
def group(recorded) -> dict:
    return recorded.plan.get(NODE_GROUP, "gpu-g5-nodes").inputs


def test_one_node_group_and_its_launch_template_children_of_the_component(recorded):
    root = recorded.component(COMPONENT)
    assert direct_children(recorded.plan, root) == [
        (TEMPLATE, "gpu-g5-template"),
        (NODE_GROUP, "gpu-g5-nodes"),
    ]
    assert outside(recorded.plan, root) == []


def test_node_group_joins_the_cluster_with_the_node_role_in_private_subnets(group):
    assert group["clusterName"] == "modelfleet-test"
    assert group["nodeRoleArn"] == NODE_ROLE
    assert group["subnetIds"] == SUBNETS
    assert group["instanceTypes"] == ["g5.xlarge", "g5.2xlarge"]


def test_scaling_bounds_are_the_pools_and_desired_starts_at_the_minimum(group):
    scaling = group["scalingConfig"]
    assert scaling == {"minSize": 1, "maxSize": 4, "desiredSize": 1}
    assert 0 <= scaling["minSize"] <= scaling["desiredSize"] <= scaling["maxSize"] and scaling["maxSize"] >= 1


def test_updates_replace_a_share_of_nodes_at_a_time(group):
    assert group["updateConfig"] == {"maxUnavailablePercentage": 25}


def test_nodes_are_tainted_and_labelled_for_gpu_pods_only(group):
    assert group["taints"] == [GPU_TAINT]
    assert GPU_TAINT == {"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}  # EKS's enum form
    # The pods' toleration matches the taint (Kubernetes' form of the same effect).
    assert (GPU_TOLERATION["key"], GPU_TOLERATION["effect"]) == ("nvidia.com/gpu", "NoSchedule")
    assert group["labels"] == {
        "nvidia.com/gpu.present": "true",
        "modelfleet.io/pool": "g5",
        "modelfleet.io/gpu": "a10g",
        "modelfleet.io/ami": "al2023",
    }
    assert group["tags"] == {**TAGS, "gpu-pool": "g5"}


def test_node_group_uses_the_latest_template_version(recorded, group):
    template = recorded.plan.get(TEMPLATE, "gpu-g5-template")
    assert group["launchTemplate"] == {"id": template.id, "version": str(template.outputs["latestVersion"])}
    assert template.inputs["metadataOptions"]["httpTokens"] == "required"
    assert template.inputs["metadataOptions"]["httpPutResponseHopLimit"] == 1
    (mapping,) = template.inputs["blockDeviceMappings"]
    assert mapping["ebs"]["volumeSize"] == 200 and mapping["ebs"]["encrypted"] == "true"
    assert template.inputs["tags"] == {**TAGS, "gpu-pool": "g5"}


@pytest.mark.parametrize(
    ("ami", "capacity", "ami_type", "capacity_type", "device"),
    [
        ("al2023", "on_demand", "AL2023_x86_64_NVIDIA", "ON_DEMAND", "/dev/xvda"),
        ("bottlerocket", "spot", "BOTTLEROCKET_x86_64_NVIDIA", "SPOT", "/dev/xvdb"),
    ],
)
def test_ami_and_capacity_map_to_the_eks_enums(ami, capacity, ami_type, capacity_type, device):
    plan = build(ami=ami, capacity=capacity, min_size=0, max_size=2).plan
    group = plan.get(NODE_GROUP, "gpu-g5-nodes").inputs
    assert (group["amiType"], group["capacityType"]) == (ami_type, capacity_type)
    assert group["amiType"] == AMI_TYPES[ami]
    assert group["labels"]["modelfleet.io/ami"] == ami
    assert group["scalingConfig"] == {"minSize": 0, "maxSize": 2, "desiredSize": 0}
    (mapping,) = plan.get(TEMPLATE, "gpu-g5-template").inputs["blockDeviceMappings"]
    assert mapping["deviceName"] == device


def test_registers_the_node_group_name(recorded):
    # The mocks do not know a node group's name until EKS names it: only the key is checked.
    assert set(recorded.outputs_of(recorded.component(COMPONENT))) == {"node_group"}
