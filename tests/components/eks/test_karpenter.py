"""Karpenter under Pulumi's mocks: its node role and access entry, queue, Pod Identity and pinned releases."""

from __future__ import annotations

import json

import pulumi_kubernetes as k8s
import pytest

from infra.components.eks.eks_cluster import NODE_POLICIES
from infra.components.eks.karpenter import Karpenter, KarpenterArgs
from infra.contracts import eks_versions
from infra.specs.k8s_pods import POOL_LABEL, SYSTEM_POOL
from tests.components.support import (
    ACCOUNT,
    TAGS,
    Recorded,
    direct_children,
    known,
    outside,
    record_component,
    waits_for,
)

COMPONENT = "modelfleet:eks:Karpenter"
RELEASE = "kubernetes:helm.sh/v3:Release"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
ACCESS_ENTRY = "aws:eks/accessEntry:AccessEntry"
ASSOCIATION = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
QUEUE = "aws:sqs/queue:Queue"
IDENTITY = "modelfleet:eks:PodIdentity"
INTERRUPTION = "modelfleet:eks:KarpenterInterruptionQueue"
PROVIDER = "pulumi:providers:kubernetes"
CLUSTER_ARN = f"arn:aws:eks:eu-west-1:{ACCOUNT}:cluster/modelfleet-test"


def build() -> Recorded:
    def program():
        provider = k8s.Provider("cluster", kubeconfig="{}")
        Karpenter(
            "karpenter",
            KarpenterArgs(
                cluster_name=known("modelfleet-test"),
                cluster_arn=known(CLUSTER_ARN),
                kubernetes_version="1.35",
                region="eu-west-1",
                partition="aws",
                account_id=known(ACCOUNT),
                queue_name="modelfleet-test-karpenter",
                provider=provider,
                tags=TAGS,
            ),
        )

    return record_component(program)


@pytest.fixture(scope="module")
def recorded() -> Recorded:
    return build()


@pytest.fixture(scope="module")
def releases(recorded) -> dict:
    return {r.inputs["name"]: r for r in recorded.plan.of_type(RELEASE)}


def test_what_the_component_declares_all_inside_it(recorded):
    root = recorded.component(COMPONENT)
    assert direct_children(recorded.plan, root) == sorted(
        [(ACCESS_ENTRY, "karpenter-node-access"), (ROLE, "karpenter-node"),
         (IDENTITY, "karpenter-controller"), (INTERRUPTION, "karpenter-interruption"),
         (RELEASE, "karpenter-karpenter"), (RELEASE, "karpenter-karpenter-crd")]
        + [(ATTACHMENT, f"karpenter-node-{policy}") for policy in NODE_POLICIES]
    )  # fmt: skip
    assert outside(recorded.plan, root, except_types=[PROVIDER]) == []
    (provider,) = recorded.plan.of_type(PROVIDER)
    assert all(recorded.provider_of(r) == provider.urn for r in recorded.plan.of_type(RELEASE))


def test_nodes_run_as_their_own_role_with_the_node_policies_and_join_through_an_ec2_linux_entry(recorded):
    plan = recorded.plan
    role = plan.get(ROLE, "karpenter-node")
    (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert statement == {
        "Effect": "Allow",
        "Principal": {"Service": "ec2.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }
    assert sorted(a.inputs["policyArn"] for a in plan.of_type(ATTACHMENT)) == sorted(
        f"arn:aws:iam::aws:policy/{p}" for p in NODE_POLICIES
    )
    assert all(a.inputs["role"] == role.outputs["name"] for a in plan.of_type(ATTACHMENT))
    entry = plan.get(ACCESS_ENTRY, "karpenter-node-access").inputs
    assert entry == {
        "clusterName": "modelfleet-test", "principalArn": role.outputs["arn"], "type": "EC2_LINUX", "tags": TAGS,
    }  # fmt: skip


def test_the_controller_gets_its_credentials_through_pod_identity_scoped_to_the_node_role_and_queue(recorded):
    plan = recorded.plan
    (association,) = plan.of_type(ASSOCIATION)
    assert (association.inputs["namespace"], association.inputs["serviceAccount"]) == (
        "kube-system",
        "karpenter",
    )
    policy = json.loads(plan.get(ROLE_POLICY, "karpenter-controller-policy").inputs["policy"])
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert statements["AllowPassingInstanceRole"]["Resource"] == [
        plan.get(ROLE, "karpenter-node").outputs["arn"]
    ]
    queue = plan.get(QUEUE, "karpenter-interruption-queue")
    assert statements["AllowInterruptionQueueActions"]["Resource"] == [queue.outputs["arn"]]
    assert statements["AllowAPIServerEndpointDiscovery"]["Resource"] == [CLUSTER_ARN]


def test_crds_and_controller_come_from_the_pinned_oci_charts(releases):
    assert set(releases) == {"karpenter-crd", "karpenter"}
    for chart_key, release in releases.items():
        chart = eks_versions.CHARTS[chart_key]
        assert release.inputs["chart"] == f"oci://public.ecr.aws/karpenter/{chart_key}"
        assert release.inputs["version"] == chart.version == "1.14.1"
        assert release.inputs["namespace"] == "kube-system"
        assert release.inputs["atomic"] is True and "repositoryOpts" not in release.inputs
    # The CRD chart owns the CRDs: the controller's chart must not install its copies.
    assert releases["karpenter"].inputs["skipCrds"] is True
    assert not releases["karpenter-crd"].inputs.get("skipCrds")


def test_controller_settings_name_the_cluster_and_queue_and_it_runs_on_system_nodes(recorded, releases):
    values = releases["karpenter"].inputs["values"]
    queue = recorded.plan.get(QUEUE, "karpenter-interruption-queue")
    assert values["settings"] == {
        "clusterName": "modelfleet-test",
        "interruptionQueue": queue.outputs["name"],
    }
    assert values["nodeSelector"] == {"kubernetes.io/os": "linux", POOL_LABEL: SYSTEM_POOL}
    assert values["serviceAccount"] == {"create": True, "name": "karpenter"}
    assert values["controller"]["env"] == [{"name": "AWS_REGION", "value": "eu-west-1"}]
    assert values["controller"]["resources"]["limits"] == {"cpu": "1", "memory": "1Gi"}
    assert values["replicas"] == 2
    # The shipped digest table has no digest yet: the chart's own digest applies, and no pins of ours.
    assert "image" not in values["controller"]


def test_the_controller_waits_for_its_crds_credentials_and_node_access(recorded, releases):
    plan, controller = recorded.plan, releases["karpenter"]
    assert waits_for(plan, controller, releases["karpenter-crd"])
    assert waits_for(plan, controller, plan.get(IDENTITY, "karpenter-controller"))
    assert waits_for(plan, controller, plan.get(ACCESS_ENTRY, "karpenter-node-access"))
    assert all(waits_for(plan, controller, a) for a in plan.of_type(ATTACHMENT))


def test_registers_the_node_role_and_queue_names(recorded):
    registered = recorded.outputs_of(recorded.component(COMPONENT))
    assert registered == {
        "node_role_name": recorded.plan.get(ROLE, "karpenter-node").outputs["name"],
        "queue_name": "modelfleet-test-karpenter",
    }
