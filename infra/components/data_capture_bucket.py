"""Where endpoints write captured requests and responses: one bucket per stack.

Captured payloads are production data, so the bucket is private, versioned,
encrypted with its own key, reachable over TLS only, and expires captures
after the retention period. Each model writes under its own prefix.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.components.encryption_key import EncryptionKey, EncryptionKeyArgs


@dataclass
class DataCaptureBucketArgs:
    bucket_prefix: str
    key_alias: str
    account_id: pulumi.Input[str]
    partition: pulumi.Input[str]
    tags: Mapping[str, str]
    retention_days: int = 90
    protect: bool = False


def tls_only_policy(bucket_arn: str) -> dict:
    """Deny every request that does not use TLS (pure, for tests and policy checks)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }


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
        self.bucket = aws.s3.Bucket(
            f"{name}-bucket",
            bucket_prefix=args.bucket_prefix,
            force_destroy=False,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect),
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=self.bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"},  # no ACLs at all
            opts=child,
        )
        aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=self.bucket.id,
            versioning_configuration={"status": "Enabled"},
            opts=child,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=self.bucket.id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {
                        "sse_algorithm": "aws:kms",
                        "kms_master_key_id": self.key.arn,
                    },
                    "bucket_key_enabled": True,  # far fewer KMS calls at capture rates
                }
            ],
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=self.bucket.id,
            rules=[
                {
                    "id": "expire-captures",
                    "status": "Enabled",
                    "filter": {},
                    "expiration": {"days": args.retention_days},
                    "noncurrent_version_expiration": {"noncurrent_days": 7},
                    "abort_incomplete_multipart_upload": {"days_after_initiation": 1},
                }
            ],
            opts=child,
        )
        aws.s3.BucketPolicy(
            f"{name}-tls-only",
            bucket=self.bucket.id,
            policy=self.bucket.arn.apply(lambda arn: json.dumps(tls_only_policy(arn))),
            opts=child,
        )
        self.register_outputs({"bucket": self.bucket.bucket, "key_arn": self.key.arn})
