"""The stack's alarm topic: every alarm notifies here, encrypted with its own key.

CloudWatch must be allowed both to publish to the topic and to use its key,
or alarms fire silently; both grants are pinned to this account's alarms.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from infra.components.security.encryption_key import EncryptionKey, EncryptionKeyArgs
from infra.specs import iam


@dataclass
class AlertsTopicArgs:
    """The topic's name and key, the account whose alarms may publish, and who is subscribed."""

    topic_name: str  # the SNS topic's name, up to 256 characters
    key_alias: str  # alias of the topic's own KMS key, without the "alias/" prefix
    region: str  # the stack's region: only this region's alarms may publish and use the key
    account_id: pulumi.Input[str]  # the stack's account: only its alarms may publish and use the key
    partition: pulumi.Input[str]  # aws, aws-cn or aws-us-gov: for the alarms' ARN pattern and key policy
    tags: Mapping[str, str]  # the stack's tags, on the topic and its key
    # addresses subscribed by email; each must confirm the subscription AWS mails it
    emails: Sequence[str] = field(default_factory=list)
    protect: bool = False  # protect_stateful: Pulumi won't delete the topic's key, and leaves it in AWS


class AlertsTopic(pulumi.ComponentResource):
    """The SNS topic every alarm of the stack notifies, which CloudWatch alone may publish to."""

    topic: aws.sns.Topic
    arn: pulumi.Output[str]

    def __init__(self, name: str, args: AlertsTopicArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("modelfleet:observability:AlertsTopic", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        alarms_in_account = pulumi.Output.all(args.partition, args.account_id).apply(
            lambda v: f"arn:{v[0]}:cloudwatch:{args.region}:{v[1]}:alarm:*"
        )
        key = EncryptionKey(
            f"{name}-kms",
            EncryptionKeyArgs(
                description=f"SNS topic {args.topic_name}",
                alias=args.key_alias,
                account_id=args.account_id,
                partition=args.partition,
                tags=args.tags,
                service="cloudwatch.amazonaws.com",
                service_actions=["kms:Decrypt", "kms:GenerateDataKey"],
                service_condition={"ArnLike": {"aws:SourceArn": alarms_in_account}},
                protect=args.protect,
            ),
            opts=child,
        )
        self.topic = aws.sns.Topic(
            f"{name}-topic",
            name=args.topic_name,
            kms_master_key_id=key.arn,
            tags=dict(args.tags),
            opts=child,
        )
        aws.sns.TopicPolicy(
            f"{name}-policy",
            arn=self.topic.arn,
            policy=pulumi.Output.all(self.topic.arn, args.account_id, alarms_in_account).apply(
                lambda v: json.dumps(
                    iam.document(
                        {
                            "Sid": "CloudWatchAlarmsPublish",
                            "Effect": "Allow",
                            "Principal": {"Service": "cloudwatch.amazonaws.com"},
                            "Action": "sns:Publish",
                            "Resource": v[0],
                            "Condition": {
                                "StringEquals": {"aws:SourceAccount": v[1]},
                                "ArnLike": {"aws:SourceArn": v[2]},
                            },
                        }
                    )
                )
            ),
            opts=child,
        )
        for index, email in enumerate(args.emails):
            aws.sns.TopicSubscription(
                f"{name}-email-{index}", topic=self.topic.arn, protocol="email", endpoint=email, opts=child
            )
        self.arn = self.topic.arn
        self.register_outputs({"arn": self.arn})
