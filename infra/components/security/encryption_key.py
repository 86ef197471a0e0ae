"""A customer-managed KMS key with rotation and an alias, for one purpose.

Every store in modelfleet is encrypted with a key of its own, so that access to
one store's data can be granted or revoked without touching any other.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.specs import iam


@dataclass
class EncryptionKeyArgs:
    """One key's purpose, owner and the single AWS service (if any) its key policy lets use it."""

    description: str  # the key's KMS description: what it encrypts, as the console shows it
    alias: str  # without the "alias/" prefix
    account_id: pulumi.Input[str]  # the account whose IAM policies administer and use the key
    partition: pulumi.Input[str]  # aws, aws-cn or aws-us-gov: for the account root's ARN in the policy
    tags: Mapping[str, str]  # the stack's tags, on the key
    # the service principal the key policy lets use the key, e.g. "logs.eu-west-1.amazonaws.com";
    # None: only IAM principals of the account
    service: str | None = None
    # the Condition on that service's statement, e.g. one log group's ARN; may hold Outputs
    service_condition: pulumi.Input[Mapping[str, Any]] | None = None
    service_actions: Sequence[str] = iam.KMS_SERVICE_ACTIONS  # the KMS actions that service may call
    deletion_window_in_days: int = 30  # days KMS waits before deleting the key; KMS accepts 7 to 30
    protect: bool = False  # prod: a deleted key makes everything it encrypted unreadable


class EncryptionKey(pulumi.ComponentResource):
    """A rotated customer-managed key and its alias, so each store's data can be granted or revoked alone."""

    key: aws.kms.Key
    arn: pulumi.Output[str]

    def __init__(self, name: str, args: EncryptionKeyArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("modelfleet:security:EncryptionKey", name, None, opts)
        policy = pulumi.Output.all(
            args.account_id, args.partition, pulumi.Output.from_input(args.service_condition or {})
        ).apply(
            lambda v: json.dumps(
                iam.kms_key_policy(v[0], v[1], args.service, v[2] or None, args.service_actions)
            )
        )
        self.key = aws.kms.Key(
            f"{name}-key",
            description=args.description,
            enable_key_rotation=True,
            deletion_window_in_days=args.deletion_window_in_days,
            policy=policy,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect),
        )
        aws.kms.Alias(
            f"{name}-alias",
            name=f"alias/{args.alias}",
            target_key_id=self.key.key_id,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.arn = self.key.arn
        self.register_outputs({"arn": self.arn})
