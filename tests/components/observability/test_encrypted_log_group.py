"""EncryptedLogGroup under Pulumi's mocks: a log group CloudWatch Logs can write with its own key."""

from __future__ import annotations

import json

import pytest

from infra.components.observability.encrypted_log_group import EncryptedLogGroup, EncryptedLogGroupArgs
from tests.components.support import ACCOUNT, TAGS, Recorded, direct_children, outside, record_component

COMPONENT = "modelfleet:observability:EncryptedLogGroup"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
KEY = "aws:kms/key:Key"
NAME = "/aws/sagemaker/Endpoints/modelfleet-test-fraud-scorer"

# CloudWatch Logs accepts only these retention periods.
LOGS_RETENTION_DAYS = {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192,
                       2557, 2922, 3288, 3653}  # fmt: skip


def build(region: str = "eu-west-1", **changes) -> Recorded:
    fields = {
        "log_group_name": NAME,
        "key_alias": "modelfleet-test-fraud-scorer-endpoint",
        "description": "endpoint logs",
        "region": region,
        "account_id": ACCOUNT,
        "partition": "aws-cn" if region.startswith("cn-") else "aws",
        "retention_days": 30,
        "tags": TAGS,
        **changes,
    }
    return record_component(lambda: EncryptedLogGroup("logs", EncryptedLogGroupArgs(**fields)), region=region)


@pytest.fixture(scope="module")
def recorded() -> Recorded:
    return build()


def test_one_log_group_and_one_key_inside_the_component(recorded):
    plan, root = recorded.plan, recorded.component(COMPONENT)
    assert direct_children(plan, root) == [
        (LOG_GROUP, "logs-group"),
        ("modelfleet:security:EncryptionKey", "logs-kms"),
    ]
    assert outside(plan, root) == []
    assert len(plan.of_type(KEY)) == 1


def test_log_group_is_named_encrypted_and_expires(recorded):
    group = recorded.plan.get(LOG_GROUP, "logs-group").inputs
    assert group["name"] == NAME
    assert group["kmsKeyId"] == recorded.plan.get(KEY, "logs-kms-key").outputs["arn"]
    assert group["retentionInDays"] == 30 and group["retentionInDays"] in LOGS_RETENTION_DAYS
    assert group["deletionProtectionEnabled"] is False
    assert group["tags"] == TAGS


def test_logs_may_use_the_key_for_this_group_only(recorded):
    policy = json.loads(recorded.plan.get(KEY, "logs-kms-key").inputs["policy"])
    service = next(s for s in policy["Statement"] if s.get("Sid") == "ServiceUsesKey")
    # The regional principal: CloudWatch Logs refuses a key whose policy names the global one only.
    assert service["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    assert service["Condition"] == {
        "ArnEquals": {
            "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:{NAME}"
        }
    }
    assert {"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"} <= set(service["Action"])


def test_china_regions_use_their_own_service_suffix_and_partition():
    policy = json.loads(build(region="cn-north-1").plan.get(KEY, "logs-kms-key").inputs["policy"])
    service = next(s for s in policy["Statement"] if s.get("Sid") == "ServiceUsesKey")
    assert service["Principal"] == {"Service": "logs.cn-north-1.amazonaws.com.cn"}
    arn = service["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"]
    assert arn.startswith("arn:aws-cn:logs:cn-north-1:")


def test_registers_name_and_arn(recorded):
    group = recorded.plan.get(LOG_GROUP, "logs-group")
    assert recorded.outputs_of(recorded.component(COMPONENT)) == {
        "name": NAME,
        "arn": group.outputs["arn"],
    }


def test_protect_keeps_group_and_key_and_turns_on_deletion_protection():
    plan = build(protect=True).plan
    protected = sorted((r.name, r.retain_on_delete) for r in plan.resources if r.protect)
    assert protected == [("logs-group", True), ("logs-kms-key", True)]
    assert plan.get(LOG_GROUP, "logs-group").inputs["deletionProtectionEnabled"] is True
