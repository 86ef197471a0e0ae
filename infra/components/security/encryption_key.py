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
    description: str
    alias: str  # without the "alias/" prefix
    account_id: pulumi.Input[str]
    partition: pulumi.Input[str]
    tags: Mapping[str, str]
    service: str | None = None  # e.g. "logs.eu-west-1.amazonaws.com"
    service_condition: pulumi.Input[Mapping[str, Any]] | None = None  # may hold Outputs
    service_actions: Sequence[str] = iam.KMS_SERVICE_ACTIONS
    deletion_window_in_days: int = 30
    protect: bool = False  # prod: a deleted key makes everything it encrypted unreadable


class EncryptionKey(pulumi.ComponentResource):
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
