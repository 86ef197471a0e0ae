"""A CloudWatch log group encrypted with a key of its own that Logs may use for it alone.

Services (EKS, SageMaker, VPC flow logs) create their log groups unencrypted and
kept forever when none exists; declaring it first gives it a key, a retention
and, in prod, protection from deletion.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.components.security.encryption_key import EncryptionKey, EncryptionKeyArgs
from infra.specs import iam


@dataclass
class EncryptedLogGroupArgs:
    """The group's exact name (the one the service writes to), its key and how long it keeps logs."""

    log_group_name: str  # the name the service writes to, e.g. /aws/eks/<cluster>/cluster
    key_alias: str  # alias of the group's own KMS key, without the "alias/" prefix
    description: str  # the key's KMS description: whose logs (and what else) it encrypts
    region: str  # the stack's region: the Logs service principal and the group's ARN in the key policy
    account_id: pulumi.Input[str]  # the stack's account: in the group's ARN, and administers the key
    partition: pulumi.Input[str]  # aws, aws-cn or aws-us-gov: for the ARNs in the key policy
    retention_days: int  # days; CloudWatch Logs accepts only its fixed set of values (RetentionDays)
    tags: Mapping[str, str]  # the stack's tags, on the group and its key
    # protect_stateful: Pulumi won't delete the group or key, leaves them in AWS, and the group
    # gets CloudWatch's own deletion protection
    protect: bool = False


class EncryptedLogGroup(pulumi.ComponentResource):
    """A log group declared before the service that writes to it, so it gets a key and a retention."""

    key: EncryptionKey
    log_group: aws.cloudwatch.LogGroup

    def __init__(self, name: str, args: EncryptedLogGroupArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("modelfleet:observability:EncryptedLogGroup", name, None, opts)
        arn = pulumi.Output.all(args.partition, args.account_id).apply(
            lambda v: iam.log_group_arn(v[0], args.region, v[1], args.log_group_name)
        )
        self.key = EncryptionKey(
            f"{name}-kms",
            EncryptionKeyArgs(
                description=args.description,
                alias=args.key_alias,
                account_id=args.account_id,
                partition=args.partition,
                tags=args.tags,
                service=iam.regional_service("logs", args.region),
                service_condition={"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": arn}},
                protect=args.protect,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-group",
            name=args.log_group_name,
            kms_key_id=self.key.arn,
            retention_in_days=args.retention_days,
            deletion_protection_enabled=args.protect,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect),
        )
        self.arn = self.log_group.arn
        self.register_outputs({"name": self.log_group.name, "arn": self.arn})
