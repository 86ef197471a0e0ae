"""The SQS queue Karpenter hears about interruptions from, and the EventBridge rules that feed it.

As Karpenter's reference (getting-started CloudFormation, v1.14): a standard queue
keeping messages five minutes, encrypted with SQS-managed keys (EventBridge then
needs no key grant), and one rule per event Karpenter acts on: spot interruption
warnings, rebalance recommendations, instance state changes, AWS Health scheduled
changes and capacity-reservation interruptions. The queue policy admits this
stack's rules and SQS, over TLS only (``iam.karpenter_queue_policy``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.specs import iam

# Rule suffix -> the events Karpenter reacts to (source, detail-type), as its reference lists them.
EVENTS: dict[str, tuple[str, str]] = {
    "health": ("aws.health", "AWS Health Event"),
    "spot-interruption": ("aws.ec2", "EC2 Spot Instance Interruption Warning"),
    "rebalance": ("aws.ec2", "EC2 Instance Rebalance Recommendation"),
    "state-change": ("aws.ec2", "EC2 Instance State-change Notification"),
    "capacity-reservation": ("aws.ec2", "EC2 Capacity Reservation Instance Interruption Warning"),
}
RETENTION_SECONDS = 300  # an interruption is acted on within minutes or not at all
RULE_NAME_LIMIT = 64  # EventBridge's limit on a rule's name
QUEUE_NAME_LIMIT = RULE_NAME_LIMIT - 1 - max(len(suffix) for suffix in EVENTS)  # rules are <queue>-<event>


@dataclass
class KarpenterInterruptionQueueArgs:
    """The queue's name and the stack's tags."""

    # SQS queue name, Karpenter's settings.interruptionQueue, and the prefix of the rules' names:
    # up to QUEUE_NAME_LIMIT (43) characters, so that every rule's name fits EventBridge's 64
    queue_name: str
    tags: Mapping[str, str]  # the stack's tags, on the queue and the rules


class KarpenterInterruptionQueue(pulumi.ComponentResource):
    """An encrypted SQS queue that EventBridge fills with the instance events Karpenter drains nodes on."""

    queue: aws.sqs.Queue
    rules: dict[str, aws.cloudwatch.EventRule]

    def __init__(
        self, name: str, args: KarpenterInterruptionQueueArgs, opts: pulumi.ResourceOptions | None = None
    ):
        if len(args.queue_name) > QUEUE_NAME_LIMIT:
            raise ValueError(f"queue name {args.queue_name!r} is over {QUEUE_NAME_LIMIT} characters")
        super().__init__("modelfleet:eks:KarpenterInterruptionQueue", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.queue = aws.sqs.Queue(
            f"{name}-queue",
            name=args.queue_name,
            message_retention_seconds=RETENTION_SECONDS,
            sqs_managed_sse_enabled=True,
            tags=dict(args.tags),
            opts=child,
        )
        self.rules = {}
        for suffix, (source, detail_type) in EVENTS.items():
            rule = aws.cloudwatch.EventRule(
                f"{name}-{suffix}",
                name=f"{args.queue_name}-{suffix}",
                description=f"{detail_type} events for Karpenter",
                event_pattern=json.dumps({"source": [source], "detail-type": [detail_type]}),
                tags=dict(args.tags),
                opts=child,
            )
            aws.cloudwatch.EventTarget(
                f"{name}-{suffix}",
                rule=rule.name,
                arn=self.queue.arn,
                target_id="KarpenterInterruptionQueueTarget",
                opts=child,
            )
            self.rules[suffix] = rule
        aws.sqs.QueuePolicy(
            f"{name}-policy",
            queue_url=self.queue.id,
            policy=pulumi.Output.all(self.queue.arn, *(r.arn for r in self.rules.values())).apply(
                lambda arns: json.dumps(iam.karpenter_queue_policy(arns[0], arns[1:]))
            ),
            opts=child,
        )
        self.register_outputs({"queue_name": self.queue.name, "queue_arn": self.queue.arn})
