"""Where endpoints write captured requests and responses: one bucket per stack.

Captured payloads are production data, so the bucket is private, versioned,
encrypted with its own key, reachable over TLS only, and expires captures
after the retention period. Each model writes under its own prefix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.components.security.encryption_key import EncryptionKey, EncryptionKeyArgs
from infra.components.storage.private_bucket import private_bucket, tls_only_policy


@dataclass
class DataCaptureBucketArgs:
    bucket_prefix: str
    key_alias: str
    account_id: pulumi.Input[str]
    partition: pulumi.Input[str]
    tags: Mapping[str, str]
    retention_days: int = 90
    protect: bool = False


class DataCaptureBucket(pulumi.ComponentResource):
    bucket: aws.s3.Bucket
    key: EncryptionKey

    def __init__(self, name: str, args: DataCaptureBucketArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("modelfleet:storage:DataCaptureBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.key = EncryptionKey(
            f"{name}-kms",
            EncryptionKeyArgs(
                description="SageMaker data capture",
                alias=args.key_alias,
                account_id=args.account_id,
                partition=args.partition,
                tags=args.tags,
                protect=args.protect,
            ),
            opts=child,
        )
        self.bucket = private_bucket(
            self, name, args.bucket_prefix, self.key.arn, "expire-captures", args.retention_days, args.tags,
            tls_only_policy, protect=args.protect,
        )  # fmt: skip
        self.register_outputs({"bucket": self.bucket.bucket, "key_arn": self.key.arn})
