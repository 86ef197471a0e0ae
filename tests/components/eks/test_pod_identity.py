"""PodIdentity under Pulumi's mocks: a role only EKS Pod Identity of one cluster may assume, and its binding."""

from __future__ import annotations

import json

import pytest

from infra.components.eks.pod_identity import PodIdentity, PodIdentityArgs
from infra.specs import iam
from tests.components.support import (
    ACCOUNT,
    TAGS,
    Recorded,
    direct_children,
    known,
    outside,
    record_component,
)

COMPONENT = "modelfleet:eks:PodIdentity"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ASSOCIATION = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
CLUSTER_ARN = f"arn:aws:eks:eu-west-1:{ACCOUNT}:cluster/modelfleet-test"
ARTIFACTS = ["arn:aws:s3:::artifacts/fraud/v1/*"]


def build() -> Recorded:
    def program():
        PodIdentity(
            "fraud-identity",
            PodIdentityArgs(
                cluster_name=known("modelfleet-test"),
                cluster_arn=known(CLUSTER_ARN),
                namespace="fraud-scorer",
                service_account="model-server",
                # The policy may hold Outputs, like the controllers' policies do.
                policy={"Version": iam.VERSION, "Statement": [
                    {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": known(ARTIFACTS)}
                ]},
                tags=TAGS,
                account_id=known(ACCOUNT),
            ),
        )  # fmt: skip

    return record_component(program)


@pytest.fixture(scope="module")
def recorded() -> Recorded:
    return build()


def test_role_policy_and_association_are_children_of_the_component(recorded):
    root = recorded.component(COMPONENT)
    assert direct_children(recorded.plan, root) == [
        (ASSOCIATION, "fraud-identity-association"),
        (ROLE, "fraud-identity-role"),
        (ROLE_POLICY, "fraud-identity-policy"),
    ]
    assert outside(recorded.plan, root) == []


def test_only_pod_identity_of_this_cluster_may_assume_the_role(recorded):
    role = recorded.plan.get(ROLE, "fraud-identity-role").inputs
    (statement,) = json.loads(role["assumeRolePolicy"])["Statement"]
    assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    # Pod Identity tags the session: without sts:TagSession the agent cannot assume the role.
    assert statement["Action"] == ["sts:AssumeRole", "sts:TagSession"]
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnEquals": {"aws:SourceArn": CLUSTER_ARN},
    }
    assert role["description"] == "Pod Identity for fraud-scorer/model-server"


def test_inline_policy_is_the_given_document_with_outputs_resolved(recorded):
    policy = recorded.plan.get(ROLE_POLICY, "fraud-identity-policy").inputs
    assert policy["role"] == recorded.plan.get(ROLE, "fraud-identity-role").id
    (statement,) = json.loads(policy["policy"])["Statement"]
    assert statement["Resource"] == ARTIFACTS


def test_association_binds_the_namespace_and_service_account_to_the_role(recorded):
    association = recorded.plan.get(ASSOCIATION, "fraud-identity-association").inputs
    assert association["clusterName"] == "modelfleet-test"
    assert association["namespace"] == "fraud-scorer"
    assert association["serviceAccount"] == "model-server"
    assert association["roleArn"] == recorded.plan.get(ROLE, "fraud-identity-role").outputs["arn"]
    assert association["tags"] == TAGS


def test_registers_the_role_arn(recorded):
    role = recorded.plan.get(ROLE, "fraud-identity-role")
    assert recorded.outputs_of(recorded.component(COMPONENT)) == {"role_arn": role.outputs["arn"]}
