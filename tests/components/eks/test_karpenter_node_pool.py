"""KarpenterNodePool under Pulumi's mocks: an EC2NodeClass and a NodePool as the v1 CRDs spell them."""

from __future__ import annotations

import pulumi_kubernetes as k8s
import pytest

from infra.components.eks.karpenter_node_pool import KarpenterNodePool, KarpenterNodePoolArgs, node_pool_spec
from infra.specs.k8s_pods import GPU_NODE_TAINT, GPU_TAINT, GPU_TOLERATION
from tests.components.support import TAGS, Recorded, direct_children, known, outside, record_component

COMPONENT = "modelfleet:eks:KarpenterNodePool"
NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
PROVIDER = "pulumi:providers:kubernetes"
SUBNETS = ["subnet-a", "subnet-b", "subnet-c"]


def build(**changes) -> Recorded:
    fields = {
        "pool": "g6",
        "gpu_model": "L4",
        "instance_types": ["g6.xlarge", "g6.2xlarge"],
        "capacity": "on_demand",
        "gpu_limit": 4,
        "cpu_limit": 32,
        "root_volume_gib": 200,
        "disruption_budget_percent": 25,
        "ami_alias": "al2023@v20260714",
        "node_role_name": known("platform-karpenter-node-0a1b2c3"),
        "subnet_ids": [known(s) for s in SUBNETS],
        "security_group_ids": [known("sg-cluster")],
        "tags": TAGS,
        **changes,
    }

    def program():
        provider = k8s.Provider("cluster", kubeconfig="{}")
        KarpenterNodePool("gpu-g6", KarpenterNodePoolArgs(provider=provider, **fields))

    return record_component(program)


@pytest.fixture(scope="module")
def recorded() -> Recorded:
    return build()


@pytest.fixture(scope="module")
def node_class(recorded) -> dict:
    return recorded.plan.get(NODE_CLASS, "gpu-g6-node-class").inputs


@pytest.fixture(scope="module")
def node_pool(recorded) -> dict:
    return recorded.plan.get(NODE_POOL, "gpu-g6-node-pool").inputs


def test_a_node_class_and_a_node_pool_children_of_the_component_on_the_clusters_provider(recorded):
    root = recorded.component(COMPONENT)
    assert direct_children(recorded.plan, root) == [
        (NODE_CLASS, "gpu-g6-node-class"),
        (NODE_POOL, "gpu-g6-node-pool"),
    ]
    assert outside(recorded.plan, root, except_types=[PROVIDER]) == []
    (provider,) = recorded.plan.of_type(PROVIDER)
    objects = recorded.plan.of_type(NODE_CLASS) + recorded.plan.of_type(NODE_POOL)
    assert {recorded.provider_of(r) for r in objects} == {provider.urn}


def test_the_node_class_boots_the_pinned_al2023_release_as_the_node_role_in_private_subnets(node_class):
    assert node_class["apiVersion"] == "karpenter.k8s.aws/v1" and node_class["kind"] == "EC2NodeClass"
    assert node_class["metadata"] == {"name": "gpu-g6"}
    spec = node_class["spec"]
    assert spec["amiSelectorTerms"] == [{"alias": "al2023@v20260714"}]  # an alias is the only term allowed
    assert spec["role"] == "platform-karpenter-node-0a1b2c3"
    assert spec["subnetSelectorTerms"] == [{"id": s} for s in SUBNETS]
    assert spec["securityGroupSelectorTerms"] == [{"id": "sg-cluster"}]
    assert spec["tags"] == {**TAGS, "gpu-pool": "g6"}


def test_nodes_require_imdsv2_with_hop_limit_one_and_an_encrypted_gp3_root_volume(node_class):
    spec = node_class["spec"]
    assert spec["metadataOptions"] == {
        "httpEndpoint": "enabled",
        "httpProtocolIPv6": "disabled",
        "httpPutResponseHopLimit": 1,
        "httpTokens": "required",
    }
    assert spec["blockDeviceMappings"] == [
        {
            "deviceName": "/dev/xvda",
            "ebs": {
                "volumeSize": "200Gi",
                "volumeType": "gp3",
                "encrypted": True,
                "deleteOnTermination": True,
            },
        }
    ]


def test_the_node_pool_launches_the_pools_types_tainted_and_labelled_for_its_models(node_pool):
    assert node_pool["apiVersion"] == "karpenter.sh/v1" and node_pool["kind"] == "NodePool"
    template = node_pool["spec"]["template"]
    assert template["spec"]["nodeClassRef"] == {
        "group": "karpenter.k8s.aws",
        "kind": "EC2NodeClass",
        "name": "gpu-g6",
    }
    assert template["spec"]["requirements"] == [
        {"key": "node.kubernetes.io/instance-type", "operator": "In", "values": ["g6.xlarge", "g6.2xlarge"]},
        {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"]},
    ]
    # The node group's taint in Kubernetes' spelling, which the model pods' toleration matches.
    assert template["spec"]["taints"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}]
    assert GPU_NODE_TAINT["key"] == GPU_TOLERATION["key"] == GPU_TAINT["key"]
    assert (
        GPU_NODE_TAINT["effect"] == GPU_TOLERATION["effect"] and GPU_NODE_TAINT["value"] == GPU_TAINT["value"]
    )
    assert template["metadata"]["labels"] == {
        "nvidia.com/gpu.present": "true",
        "modelfleet.io/pool": "g6",
        "modelfleet.io/gpu": "L4",
        "modelfleet.io/ami": "al2023",
    }


def test_limits_cap_the_pools_gpus_and_cpus(node_pool):
    assert node_pool["spec"]["limits"] == {"nvidia.com/gpu": 4, "cpu": 32}


def test_disruption_removes_only_empty_nodes_within_the_budget_and_nodes_never_expire(node_pool):
    assert node_pool["spec"]["disruption"] == {
        "consolidationPolicy": "WhenEmpty",
        "consolidateAfter": "10m",
        "budgets": [{"nodes": "25%"}],
    }
    assert node_pool["spec"]["template"]["spec"]["expireAfter"] == "Never"
    assert "terminationGracePeriod" not in node_pool["spec"]["template"]["spec"]


def test_the_node_pool_waits_for_its_node_class(recorded):
    pool, node_class = (
        recorded.plan.get(NODE_POOL, "gpu-g6-node-pool"),
        recorded.plan.get(NODE_CLASS, "gpu-g6-node-class"),
    )
    assert node_class.urn in pool.depends_on


@pytest.mark.parametrize(("capacity", "label"), [("spot", "spot"), ("on_demand", "on-demand")])
def test_capacity_maps_to_karpenters_capacity_type_label(capacity, label):
    spec = node_pool_spec(
        pool="g5", gpu_model="A10G", node_class="gpu-g5", instance_types=["g5.xlarge"], capacity=capacity,
        gpu_limit=2, cpu_limit=8, disruption_budget_percent=100,
    )  # fmt: skip
    (_, capacity_type) = spec["template"]["spec"]["requirements"]
    assert capacity_type == {"key": "karpenter.sh/capacity-type", "operator": "In", "values": [label]}
    assert spec["disruption"]["budgets"] == [{"nodes": "100%"}]


def test_registers_the_node_pool_name(recorded):
    assert recorded.outputs_of(recorded.component(COMPONENT)) == {"node_pool": "gpu-g6"}
