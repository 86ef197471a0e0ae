"""FlowLogs under Pulumi's mocks: VPC flow logs into an encrypted group, by a role that writes there only."""

from __future__ import annotations

import json

import pytest

from infra.components.network.flow_logs import FlowLogs, FlowLogsArgs
from tests.components.support import (
    ACCOUNT,
    TAGS,
    Recorded,
    direct_children,
    known,
    outside,
    record_component,
)

COMPONENT = "modelfleet:network:FlowLogs"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
KEY = "aws:kms/key:Key"
NAME = "/modelfleet/test/vpc-flow-logs"


def build(**changes) -> Recorded:
    fields = {
        "vpc_id": known("vpc-0123456789abcdef0"),
        "log_group_name": NAME,
        "key_alias": "modelfleet-test-flow-logs",
        "region": "eu-west-1",
        "account_id": ACCOUNT,
        "partition": "aws",
        "tags": TAGS,
        "retention_days": 90,
        **changes,
    }
    return record_component(lambda: FlowLogs("flow", FlowLogsArgs(**fields)))


@pytest.fixture(scope="module")
def recorded() -> Recorded:
    return build()


def test_resources_and_parents(recorded):
    plan, root = recorded.plan, recorded.component(COMPONENT)
    assert direct_children(plan, root) == [
        (FLOW_LOG, "flow-vpc"),
        (ROLE, "flow-role"),
        (ROLE_POLICY, "flow-delivery"),
        ("modelfleet:observability:EncryptedLogGroup", "flow-log"),
    ]
    assert outside(plan, root) == []
    assert [r.name for r in plan.of_type(LOG_GROUP)] == ["flow-log-group"]
    assert [r.name for r in plan.of_type(KEY)] == ["flow-log-kms-key"]


def test_flow_log_captures_the_vpc_into_the_log_group(recorded):
    flow = recorded.plan.get(FLOW_LOG, "flow-vpc").inputs
    group = recorded.plan.get(LOG_GROUP, "flow-log-group")
    assert flow["vpcId"] == "vpc-0123456789abcdef0"
    assert flow["trafficType"] == "ALL"
    assert flow["logDestinationType"] == "cloud-watch-logs"
    assert flow["logDestination"] == group.outputs["arn"]
    assert flow["iamRoleArn"] == recorded.plan.get(ROLE, "flow-role").outputs["arn"]
    assert flow["maxAggregationInterval"] in (60, 600)  # the only values EC2 accepts
    assert flow["maxAggregationInterval"] == 600


def test_log_group_is_encrypted_and_kept_for_the_retention(recorded):
    group = recorded.plan.get(LOG_GROUP, "flow-log-group").inputs
    assert group["name"] == NAME
    assert group["retentionInDays"] == 90
    assert group["kmsKeyId"] == recorded.plan.get(KEY, "flow-log-kms-key").outputs["arn"]


def test_role_trusts_the_flow_logs_service_for_this_account_only(recorded):
    trust = json.loads(recorded.plan.get(ROLE, "flow-role").inputs["assumeRolePolicy"])
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:SourceArn": f"arn:aws:ec2:eu-west-1:{ACCOUNT}:vpc-flow-log/*"},
    }


def test_role_writes_to_its_log_group_only(recorded):
    arn = recorded.plan.get(LOG_GROUP, "flow-log-group").outputs["arn"]
    policy = recorded.plan.get(ROLE_POLICY, "flow-delivery")
    assert policy.inputs["role"] == recorded.plan.get(ROLE, "flow-role").id
    writes, describe = json.loads(policy.inputs["policy"])["Statement"]
    assert writes["Action"] == ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"]
    assert writes["Resource"] == [arn, f"{arn}:*"]
    assert describe["Action"] == ["logs:DescribeLogGroups"]
    assert describe["Resource"] == [arn.rsplit(":", 1)[0] + ":*"]


def test_flow_log_waits_for_its_permissions(recorded):
    flow = recorded.plan.get(FLOW_LOG, "flow-vpc")
    assert recorded.plan.get(ROLE_POLICY, "flow-delivery").urn in flow.depends_on


def test_traffic_type_and_aggregation_are_passed_through():
    flow = build(traffic_type="REJECT", max_aggregation_interval_seconds=60).plan.get(FLOW_LOG, "flow-vpc")
    assert (flow.inputs["trafficType"], flow.inputs["maxAggregationInterval"]) == ("REJECT", 60)


def test_registers_the_log_group_name(recorded):
    assert recorded.outputs_of(recorded.component(COMPONENT)) == {"log_group_name": NAME}


def test_protect_keeps_the_group_and_key():
    protected = sorted(r.name for r in build(protect=True).plan.resources if r.protect)
    assert protected == ["flow-log-group", "flow-log-kms-key"]
