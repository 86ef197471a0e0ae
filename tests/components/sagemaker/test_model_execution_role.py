"""ModelExecutionRole under Pulumi's mocks: a role SageMaker may assume, holding only what one model needs."""

from __future__ import annotations

import json

import pytest

from infra.components.sagemaker.model_execution_role import ModelExecutionRole, ModelExecutionRoleArgs
from tests.components.support import (
    ACCOUNT,
    TAGS,
    Recorded,
    direct_children,
    known,
    outside,
    record_component,
)

COMPONENT = "modelfleet:sagemaker:ModelExecutionRole"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
LOG_GROUP = (
    f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/aws/sagemaker/Endpoints/modelfleet-test-fraud-scorer"
)
KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555"
CAPTURE_KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/66666666-7777-8888-9999-000000000000"
VPC = f"arn:aws:ec2:eu-west-1:{ACCOUNT}:vpc/vpc-0123456789abcdef0"
ARTIFACTS = ["arn:aws:s3:::artifacts/fraud/v1/*", "arn:aws:s3:::artifacts/fraud/v2/*"]
REPOSITORIES = [f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/scorer"]


def build(capture: bool = True, in_vpc: bool = True) -> Recorded:
    def program():
        ModelExecutionRole(
            "fraud-execution",
            ModelExecutionRoleArgs(
                account_id=known(ACCOUNT),
                artifact_arns=ARTIFACTS,
                repository_arns=REPOSITORIES,
                log_group_arn=known(LOG_GROUP),
                key_arn=known(KEY),
                tags=TAGS,
                capture_object_arn=known("arn:aws:s3:::capture/fraud-scorer/*") if capture else None,
                capture_key_arn=known(CAPTURE_KEY) if capture else None,
                vpc_arn=known(VPC) if in_vpc else None,
            ),
        )

    return record_component(program)


def statements(recorded: Recorded) -> dict[str, dict]:
    policy = json.loads(recorded.plan.get(ROLE_POLICY, "fraud-execution-policy").inputs["policy"])
    return {s["Sid"]: s for s in policy["Statement"]}


@pytest.fixture(scope="module")
def recorded() -> Recorded:
    return build()


def test_one_role_and_its_inline_policy_children_of_the_component(recorded):
    root = recorded.component(COMPONENT)
    assert direct_children(recorded.plan, root) == [
        (ROLE, "fraud-execution-role"),
        (ROLE_POLICY, "fraud-execution-policy"),
    ]
    assert outside(recorded.plan, root) == []
    policy = recorded.plan.get(ROLE_POLICY, "fraud-execution-policy")
    assert policy.inputs["role"] == recorded.plan.get(ROLE, "fraud-execution-role").id


def test_only_sagemaker_in_this_account_may_assume_it(recorded):
    role = recorded.plan.get(ROLE, "fraud-execution-role").inputs
    (statement,) = json.loads(role["assumeRolePolicy"])["Statement"]
    assert statement == {
        "Effect": "Allow",
        "Principal": {"Service": "sagemaker.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
    }
    assert 3600 <= role["maxSessionDuration"] <= 43200  # what IAM accepts
    assert role["tags"] == TAGS


def test_reads_its_artifacts_pulls_its_images_and_writes_its_logs(recorded):
    found = statements(recorded)
    assert found["ReadArtifacts"] == {
        "Sid": "ReadArtifacts", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ARTIFACTS,
    }  # fmt: skip
    assert found["PullImages"]["Resource"] == REPOSITORIES
    assert found["PullImages"]["Action"] == [
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
    ]
    assert found["EcrLogin"]["Action"] == ["ecr:GetAuthorizationToken"]  # takes no resource in IAM
    assert found["WriteOwnLogs"]["Resource"] == [LOG_GROUP, f"{LOG_GROUP}:*"]
    assert found["UseOwnKey"]["Resource"] == [KEY]


def test_writes_its_capture_prefix_with_the_capture_key(recorded):
    found = statements(recorded)
    assert found["WriteDataCapture"]["Action"] == ["s3:PutObject"]
    assert found["WriteDataCapture"]["Resource"] == ["arn:aws:s3:::capture/fraud-scorer/*"]
    assert found["EncryptCapture"]["Resource"] == [CAPTURE_KEY]
    assert found["EncryptCapture"]["Action"] == ["kms:Encrypt", "kms:GenerateDataKey"]


def test_network_interfaces_only_in_the_stacks_vpc(recorded):
    found = statements(recorded)
    assert found["InTheStacksSubnetsAndGroups"]["Condition"] == {"ArnEquals": {"ec2:Vpc": VPC}}
    assert found["ManageInterfacesInTheStacksVpc"]["Condition"] == {"ArnEquals": {"ec2:Vpc": VPC}}
    assert found["NewInterfaces"]["Resource"] == [f"arn:aws:ec2:eu-west-1:{ACCOUNT}:network-interface/*"]
    assert "ec2:DescribeVpcEndpoints" in found["DescribeNetwork"]["Action"]


def test_no_wildcard_action_anywhere(recorded):
    for statement in statements(recorded).values():
        assert statement["Effect"] == "Allow"
        assert all("*" not in action for action in statement["Action"]), statement["Sid"]


def test_without_capture_or_vpc_those_grants_are_absent():
    found = statements(build(capture=False, in_vpc=False))
    assert set(found) == {"ReadArtifacts", "PullImages", "EcrLogin", "WriteOwnLogs", "UseOwnKey"}


def test_registers_the_role_arn(recorded):
    role = recorded.plan.get(ROLE, "fraud-execution-role")
    assert recorded.outputs_of(recorded.component(COMPONENT)) == {"arn": role.outputs["arn"]}
