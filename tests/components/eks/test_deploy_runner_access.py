"""DeployRunnerAccess under Pulumi's mocks: the runner's group and its one way into the Kubernetes API."""

from __future__ import annotations

import pytest

from infra.components.eks.deploy_runner_access import DeployRunnerAccess, DeployRunnerAccessArgs
from tests.components.support import TAGS, Recorded, direct_children, known, outside, record_component

COMPONENT = "modelfleet:eks:DeployRunnerAccess"
GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"


def build() -> Recorded:
    def program():
        DeployRunnerAccess(
            "runner",
            DeployRunnerAccessArgs(
                vpc_id=known("vpc-1"),
                cluster_security_group_id=known("sg-0cluster000000000"),
                name_prefix="modelfleet-test",
                tags=TAGS,
            ),
        )

    return record_component(program)


@pytest.fixture(scope="module")
def recorded() -> Recorded:
    return build()


def test_one_group_and_two_rules_children_of_the_component(recorded):
    root = recorded.component(COMPONENT)
    assert direct_children(recorded.plan, root) == [
        (GROUP, "runner-sg"),
        (EGRESS, "runner-https-out"),
        (INGRESS, "runner-api"),
    ]
    assert outside(recorded.plan, root) == []


def test_group_lives_in_the_vpc_with_no_inline_rules(recorded):
    group = recorded.plan.get(GROUP, "runner-sg").inputs
    assert group["vpcId"] == "vpc-1"
    assert group["revokeRulesOnDelete"] is True
    assert group["tags"] == {**TAGS, "Name": "modelfleet-test-deploy-runner"}
    assert "ingress" not in group and "egress" not in group


def test_runner_may_only_leave_on_https(recorded):
    group = recorded.plan.get(GROUP, "runner-sg")
    (egress,) = recorded.plan.of_type(EGRESS)
    assert egress.inputs["securityGroupId"] == group.id
    assert (egress.inputs["ipProtocol"], egress.inputs["fromPort"], egress.inputs["toPort"]) == (
        "tcp",
        443,
        443,
    )
    assert egress.inputs["cidrIpv4"] == "0.0.0.0/0"


def test_cluster_group_admits_the_runner_group_on_443_only(recorded):
    group = recorded.plan.get(GROUP, "runner-sg")
    (ingress,) = recorded.plan.of_type(INGRESS)
    assert ingress.inputs["securityGroupId"] == "sg-0cluster000000000"  # the EKS-managed cluster group
    assert ingress.inputs["referencedSecurityGroupId"] == group.id
    assert (ingress.inputs["ipProtocol"], ingress.inputs["fromPort"], ingress.inputs["toPort"]) == (
        "tcp",
        443,
        443,
    )
    assert "cidrIpv4" not in ingress.inputs  # a group, never an address range


def test_registers_the_runner_group_id(recorded):
    group = recorded.plan.get(GROUP, "runner-sg")
    assert recorded.outputs_of(recorded.component(COMPONENT)) == {"security_group_id": group.id}
