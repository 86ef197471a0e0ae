"""EncryptionKey under Pulumi's mocks: one rotated key with a policy KMS accepts, and its alias."""

from __future__ import annotations

import json

import pytest

from infra.components.security.encryption_key import EncryptionKey, EncryptionKeyArgs
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

COMPONENT = "modelfleet:security:EncryptionKey"
KEY = "aws:kms/key:Key"
ALIAS = "aws:kms/alias:Alias"
LOG_GROUP_ARN = "arn:aws:logs:eu-west-1:111122223333:log-group:/modelfleet/test/x"


def build(**changes) -> Recorded:
    fields = {
        "description": "Test store",
        "alias": "modelfleet-test-store",
        "account_id": ACCOUNT,
        "partition": "aws",
        "tags": TAGS,
        **changes,
    }
    return record_component(lambda: EncryptionKey("store", EncryptionKeyArgs(**fields)))


def policy(recorded: Recorded) -> dict:
    return json.loads(recorded.plan.get(KEY, "store-key").inputs["policy"])


@pytest.fixture(scope="module")
def plain() -> Recorded:
    return build()


@pytest.fixture(scope="module")
def for_logs() -> Recorded:
    # The condition may hold Outputs (a log group ARN known only once planned).
    condition = {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": known(LOG_GROUP_ARN)}}
    return build(service="logs.eu-west-1.amazonaws.com", service_condition=condition)


def test_one_key_and_one_alias_both_children_of_the_component(plain):
    root = plain.component(COMPONENT)
    assert direct_children(plain.plan, root) == [(ALIAS, "store-alias"), (KEY, "store-key")]
    assert outside(plain.plan, root) == []


def test_key_rotates_and_keeps_the_deletion_window(plain):
    key = plain.plan.get(KEY, "store-key").inputs
    assert key["enableKeyRotation"] is True
    assert key["deletionWindowInDays"] == 30
    assert key["description"] == "Test store"
    assert key["tags"] == TAGS


@pytest.mark.parametrize("days", [7, 30])
def test_deletion_window_is_passed_through_within_kms_limits(days):
    key = build(deletion_window_in_days=days).plan.get(KEY, "store-key").inputs
    assert key["deletionWindowInDays"] == days
    assert 7 <= key["deletionWindowInDays"] <= 30  # what KMS accepts


def test_policy_lets_the_account_administer_the_key_and_nobody_else_by_default(plain):
    document = policy(plain)
    assert document["Version"] == iam.VERSION
    (root,) = document["Statement"]
    assert root == {
        "Sid": "AccountAdministersKeyThroughIam",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }


def test_policy_root_follows_the_partition():
    document = policy(build(partition="aws-cn"))
    assert document["Statement"][0]["Principal"] == {"AWS": f"arn:aws-cn:iam::{ACCOUNT}:root"}


def test_a_service_may_use_the_key_under_its_condition_with_outputs_resolved(for_logs):
    root, service = policy(for_logs)["Statement"]
    assert root["Sid"] == "AccountAdministersKeyThroughIam"
    assert service["Sid"] == "ServiceUsesKey"
    assert service["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    assert service["Action"] == sorted(iam.KMS_SERVICE_ACTIONS)
    assert "kms:*" not in service["Action"]
    assert service["Resource"] == ["*"]
    assert service["Condition"] == {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": LOG_GROUP_ARN}}


def test_service_actions_can_be_narrowed():
    recorded = build(
        service="cloudwatch.amazonaws.com", service_actions=["kms:GenerateDataKey", "kms:Decrypt"]
    )
    service = policy(recorded)["Statement"][1]
    assert service["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert "Condition" not in service


def test_alias_names_the_key_with_the_alias_prefix(plain):
    alias = plain.plan.get(ALIAS, "store-alias").inputs
    key = plain.plan.get(KEY, "store-key")
    assert alias["name"] == "alias/modelfleet-test-store"
    assert not alias["name"].startswith("alias/aws/")  # reserved for AWS managed keys
    assert alias["targetKeyId"] == key.outputs["keyId"]


def test_registers_the_key_arn(plain):
    key = plain.plan.get(KEY, "store-key")
    assert plain.outputs_of(plain.component(COMPONENT)) == {"arn": key.outputs["arn"]}
    assert key.outputs["arn"].startswith("arn:aws:kms:eu-west-1:")


def test_protect_keeps_the_key_but_not_the_alias(plain):
    assert [r.name for r in plain.plan.resources if r.protect or r.retain_on_delete] == []
    protected = build(protect=True).plan
    assert [(r.name, r.retain_on_delete) for r in protected.resources if r.protect] == [("store-key", True)]
