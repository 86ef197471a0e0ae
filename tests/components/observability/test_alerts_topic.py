"""AlertsTopic under Pulumi's mocks: an encrypted topic CloudWatch alarms can really publish to."""

from __future__ import annotations

import json

import pytest

from infra.components.observability.alerts_topic import AlertsTopic, AlertsTopicArgs
from tests.components.support import (
    ACCOUNT,
    TAGS,
    Recorded,
    by_name,
    direct_children,
    known,
    outside,
    record_component,
)

COMPONENT = "modelfleet:observability:AlertsTopic"
TOPIC = "aws:sns/topic:Topic"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
KEY = "aws:kms/key:Key"
ALARMS_IN_ACCOUNT = f"arn:aws:cloudwatch:eu-west-1:{ACCOUNT}:alarm:*"


def build(**changes) -> Recorded:
    fields = {
        "topic_name": "modelfleet-test-alarms",
        "key_alias": "modelfleet-test-alarms",
        "region": "eu-west-1",
        # As the platform passes them: Outputs of the caller identity and partition lookups.
        "account_id": known(ACCOUNT),
        "partition": known("aws"),
        "tags": TAGS,
        "emails": ["oncall@example.com", "ml-platform@example.com"],
        **changes,
    }
    return record_component(lambda: AlertsTopic("alerts", AlertsTopicArgs(**fields)))


@pytest.fixture(scope="module")
def recorded() -> Recorded:
    return build()


def test_resources_and_their_parents(recorded):
    plan, root = recorded.plan, recorded.component(COMPONENT)
    assert direct_children(plan, root) == [
        ("aws:sns/topic:Topic", "alerts-topic"),
        ("aws:sns/topicPolicy:TopicPolicy", "alerts-policy"),
        ("aws:sns/topicSubscription:TopicSubscription", "alerts-email-0"),
        ("aws:sns/topicSubscription:TopicSubscription", "alerts-email-1"),
        ("modelfleet:security:EncryptionKey", "alerts-kms"),
    ]
    assert outside(plan, root) == []
    assert len(plan.of_type(KEY)) == 1


def test_topic_is_named_and_encrypted_with_its_own_key(recorded):
    topic = recorded.plan.get(TOPIC, "alerts-topic").inputs
    key = recorded.plan.get(KEY, "alerts-kms-key")
    assert topic["name"] == "modelfleet-test-alarms"
    assert topic["kmsMasterKeyId"] == key.outputs["arn"]
    assert topic["tags"] == TAGS
    assert key.inputs["enableKeyRotation"] is True


def test_cloudwatch_may_use_the_key_for_this_accounts_alarms(recorded):
    policy = json.loads(recorded.plan.get(KEY, "alerts-kms-key").inputs["policy"])
    service = next(s for s in policy["Statement"] if s.get("Sid") == "ServiceUsesKey")
    assert service["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    # Without both, alarms fail to publish to an encrypted topic.
    assert service["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert service["Condition"] == {"ArnLike": {"aws:SourceArn": ALARMS_IN_ACCOUNT}}


def test_topic_policy_lets_only_this_accounts_alarms_publish(recorded):
    policy = recorded.plan.get(TOPIC_POLICY, "alerts-policy").inputs
    topic = recorded.plan.get(TOPIC, "alerts-topic")
    assert policy["arn"] == topic.outputs["arn"]
    (statement,) = json.loads(policy["policy"])["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert statement["Action"] == "sns:Publish"
    assert statement["Resource"] == topic.outputs["arn"]
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:SourceArn": ALARMS_IN_ACCOUNT},
    }


def test_one_email_subscription_per_address(recorded):
    subscriptions = by_name(recorded.plan, SUBSCRIPTION)
    topic_arn = recorded.plan.get(TOPIC, "alerts-topic").outputs["arn"]
    assert {s.inputs["endpoint"] for s in subscriptions.values()} == {
        "oncall@example.com",
        "ml-platform@example.com",
    }
    for subscription in subscriptions.values():
        assert subscription.inputs["protocol"] == "email"
        assert subscription.inputs["topic"] == topic_arn


def test_no_emails_means_no_subscriptions():
    assert build(emails=[]).plan.of_type(SUBSCRIPTION) == []


def test_key_alias_and_partition_reach_the_key():
    recorded = build(partition=known("aws-cn"), region="cn-north-1")
    alias = recorded.plan.get("aws:kms/alias:Alias", "alerts-kms-alias").inputs
    assert alias["name"] == "alias/modelfleet-test-alarms"
    policy = json.loads(recorded.plan.get(TOPIC_POLICY, "alerts-policy").inputs["policy"])
    assert policy["Statement"][0]["Condition"]["ArnLike"] == {
        "aws:SourceArn": f"arn:aws-cn:cloudwatch:cn-north-1:{ACCOUNT}:alarm:*"
    }


def test_registers_the_topic_arn(recorded):
    topic = recorded.plan.get(TOPIC, "alerts-topic")
    assert recorded.outputs_of(recorded.component(COMPONENT)) == {"arn": topic.outputs["arn"]}


def test_protect_reaches_the_key():
    protected = [r.name for r in build(protect=True).plan.resources if r.protect]
    assert protected == ["alerts-kms-key"]
