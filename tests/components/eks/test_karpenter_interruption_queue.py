"""KarpenterInterruptionQueue under Pulumi's mocks: an encrypted queue, the rules that fill it, who may write."""

from __future__ import annotations

import json

import pytest

from infra.components.eks.karpenter_interruption_queue import (
    EVENTS,
    QUEUE_NAME_LIMIT,
    KarpenterInterruptionQueue,
    KarpenterInterruptionQueueArgs,
)
from tests.components.support import TAGS, Recorded, direct_children, outside, record_component

COMPONENT = "modelfleet:eks:KarpenterInterruptionQueue"
QUEUE = "aws:sqs/queue:Queue"
QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"


def build() -> Recorded:
    return record_component(
        lambda: KarpenterInterruptionQueue(
            "interruption", KarpenterInterruptionQueueArgs(queue_name="modelfleet-test-karpenter", tags=TAGS)
        )
    )


@pytest.fixture(scope="module")
def recorded() -> Recorded:
    return build()


def test_queue_policy_and_a_rule_and_target_per_event_all_children_of_the_component(recorded):
    root = recorded.component(COMPONENT)
    rules = ["health", "spot-interruption", "rebalance", "state-change", "capacity-reservation"]
    assert list(EVENTS) == rules
    assert direct_children(recorded.plan, root) == sorted(
        [(QUEUE, "interruption-queue"), (QUEUE_POLICY, "interruption-policy")]
        + [(RULE, f"interruption-{r}") for r in rules]
        + [(TARGET, f"interruption-{r}") for r in rules]
    )
    assert outside(recorded.plan, root) == []


def test_the_queue_is_encrypted_named_for_karpenter_and_keeps_messages_five_minutes(recorded):
    queue = recorded.plan.get(QUEUE, "interruption-queue").inputs
    assert queue["name"] == "modelfleet-test-karpenter"
    assert queue["sqsManagedSseEnabled"] is True
    assert queue["messageRetentionSeconds"] == 300
    assert queue["tags"] == TAGS


@pytest.mark.parametrize(
    ("rule", "source", "detail_type"),
    [
        ("health", "aws.health", "AWS Health Event"),
        ("spot-interruption", "aws.ec2", "EC2 Spot Instance Interruption Warning"),
        ("rebalance", "aws.ec2", "EC2 Instance Rebalance Recommendation"),
        ("state-change", "aws.ec2", "EC2 Instance State-change Notification"),
        ("capacity-reservation", "aws.ec2", "EC2 Capacity Reservation Instance Interruption Warning"),
    ],
)
def test_each_rule_sends_karpenters_events_to_the_queue(recorded, rule, source, detail_type):
    plan = recorded.plan
    inputs = plan.get(RULE, f"interruption-{rule}").inputs
    assert inputs["name"] == f"modelfleet-test-karpenter-{rule}"
    assert json.loads(inputs["eventPattern"]) == {"source": [source], "detail-type": [detail_type]}
    assert inputs["tags"] == TAGS
    target = plan.get(TARGET, f"interruption-{rule}").inputs
    assert target["rule"] == plan.get(RULE, f"interruption-{rule}").outputs["name"]
    assert target["arn"] == plan.get(QUEUE, "interruption-queue").outputs["arn"]
    assert "roleArn" not in target  # SQS targets use the queue policy, never a role


def test_only_this_stacks_rules_and_sqs_may_send_and_only_over_tls(recorded):
    plan = recorded.plan
    queue = plan.get(QUEUE, "interruption-queue")
    inputs = plan.get(QUEUE_POLICY, "interruption-policy").inputs
    assert inputs["queueUrl"] == queue.id
    events, sqs, deny = json.loads(inputs["policy"])["Statement"]
    rules = sorted(r.outputs["arn"] for r in plan.of_type(RULE))
    assert sorted(events["Condition"]["ArnEquals"]["aws:SourceArn"]) == rules and len(rules) == 5
    assert events["Principal"] == {"Service": "events.amazonaws.com"}
    assert sqs["Principal"] == {"Service": "sqs.amazonaws.com"}
    assert {events["Resource"], sqs["Resource"], deny["Resource"]} == {queue.outputs["arn"]}
    assert events["Action"] == sqs["Action"] == "sqs:SendMessage"
    assert deny == {**deny, "Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}


def test_registers_the_queue_name_and_arn(recorded):
    queue = recorded.plan.get(QUEUE, "interruption-queue").outputs
    assert recorded.outputs_of(recorded.component(COMPONENT)) == {
        "queue_name": "modelfleet-test-karpenter",
        "queue_arn": queue["arn"],
    }


def test_rule_names_stay_within_eventbridges_limit_and_a_longer_queue_name_is_refused():
    assert QUEUE_NAME_LIMIT == 43
    assert max(len(f"{'q' * QUEUE_NAME_LIMIT}-{suffix}") for suffix in EVENTS) == 64
    with pytest.raises(ValueError, match="over 43 characters"):
        KarpenterInterruptionQueue("x", KarpenterInterruptionQueueArgs(queue_name="q" * 44, tags=TAGS))
