"""Where endpoints write captured requests and responses: one bucket per stack.

Captured payloads are production data, so the bucket is private, versioned,
encrypted with its own key, reachable over TLS only, and expires captures
after the retention period. Each model writes under its own prefix.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.components.security.encryption_key import EncryptionKey, EncryptionKeyArgs
from infra.components.storage.private_bucket import private_bucket, tls_only_policy


@dataclass
class DataCaptureBucketArgs:
    """The stack's one capture store: its name, its key and how long captures are kept."""

    bucket_prefix: str  # S3 bucket_prefix (the provider appends 26 characters): naming.BUCKET_PREFIX_LIMIT
    key_alias: str  # alias of the bucket's own KMS key, without the "alias/" prefix
    account_id: pulumi.Input[str]  # the stack's account: administers the key through IAM
    partition: pulumi.Input[str]  # aws, aws-cn or aws-us-gov: for the key policy's ARNs
    tags: Mapping[str, str]  # the stack's tags, on the bucket and its key
    retention_days: int = 90  # days a captured payload is kept; the lifecycle rule then expires it
    # Where captures and drift reports are written (e.g. "fraud-scorer/modelfleet-prod-fraud-scorer/"):
    # only these expire, so a model's drift baseline and the drift job's code stay. None: everything.
    expiry_prefixes: Sequence[str] | None = None
    protect: bool = False  # protect_stateful: Pulumi won't delete the bucket or key, and leaves them in AWS


class DataCaptureBucket(pulumi.ComponentResource):
    """A private, versioned bucket with its own key, where SageMaker endpoints write captured traffic."""

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
            tls_only_policy, protect=args.protect, expiry_prefixes=args.expiry_prefixes,
        )  # fmt: skip
        self.register_outputs({"bucket": self.bucket.bucket, "key_arn": self.key.arn})
