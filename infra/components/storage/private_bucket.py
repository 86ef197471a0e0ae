"""One private, versioned, KMS-encrypted, TLS-only bucket with expiry: what every stack bucket is.

A helper, not a component: each bucket-owning component declares these children
under itself, so their names and parents (and so their URNs) stay its own.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pulumi
import pulumi_aws as aws


def tls_only_policy(bucket_arn: str) -> dict:
    """Deny every request that does not use TLS (pure, for tests and policy checks)."""
    return {
        "Version": "2012-10-17",
        "Statement": [tls_only_statement(bucket_arn)],
    }


def tls_only_statement(bucket_arn: str) -> dict[str, Any]:
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def private_bucket(
    parent: pulumi.Resource,
    name: str,
    bucket_prefix: str,
    key_arn: pulumi.Input[str],
    expiry_rule_id: str,
    retention_days: int,
    tags: Mapping[str, str],
    policy: Callable[[str], pulumi.Input[dict]],
    *,
    protect: bool = False,
    expiry_prefixes: Sequence[str] | None = None,
) -> aws.s3.Bucket:
    """The bucket and its settings as children of ``parent``.

    ``policy`` builds the bucket policy from the bucket's ARN. Objects expire after
    ``retention_days``: all of them, or with ``expiry_prefixes`` only those under one of
    them (one rule each), so what else the bucket keeps outlives the retention.
    """
    child = pulumi.ResourceOptions(parent=parent)
    bucket = aws.s3.Bucket(
        f"{name}-bucket",
        bucket_prefix=bucket_prefix,
        force_destroy=False,
        tags=dict(tags),
        opts=pulumi.ResourceOptions(parent=parent, protect=protect, retain_on_delete=protect),
    )
    aws.s3.BucketOwnershipControls(
        f"{name}-ownership",
        bucket=bucket.id,
        rule={"object_ownership": "BucketOwnerEnforced"},  # no ACLs at all
        opts=child,
    )
    aws.s3.BucketPublicAccessBlock(
        f"{name}-public-access",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=child,
    )
    aws.s3.BucketVersioning(
        f"{name}-versioning",
        bucket=bucket.id,
        versioning_configuration={"status": "Enabled"},
        opts=child,
    )
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-encryption",
        bucket=bucket.id,
        rules=[
            {
                "apply_server_side_encryption_by_default": {
                    "sse_algorithm": "aws:kms",
                    "kms_master_key_id": key_arn,
                },
                "bucket_key_enabled": True,  # far fewer KMS calls at capture rates
            }
        ],
        opts=child,
    )
    aws.s3.BucketLifecycleConfiguration(
        f"{name}-lifecycle",
        bucket=bucket.id,
        rules=_expiry_rules(expiry_rule_id, retention_days, expiry_prefixes),
        opts=child,
    )
    aws.s3.BucketPolicy(
        f"{name}-tls-only",
        bucket=bucket.id,
        policy=bucket.arn.apply(lambda arn: pulumi.Output.from_input(policy(arn)).apply(json.dumps)),
        opts=child,
    )
    return bucket


def _expiry_rules(rule_id: str, retention_days: int, prefixes: Sequence[str] | None) -> list[dict[str, Any]]:
    """Expiry for everything, or per prefix plus one bucket-wide rule for old versions and uploads."""
    housekeeping = {
        "noncurrent_version_expiration": {"noncurrent_days": 7},
        "abort_incomplete_multipart_upload": {"days_after_initiation": 1},
    }
    if prefixes is None:
        return [
            {"id": rule_id, "status": "Enabled", "filter": {}, "expiration": {"days": retention_days}}
            | housekeeping
        ]
    return [{"id": f"{rule_id}-housekeeping", "status": "Enabled", "filter": {}} | housekeeping] + [
        {
            "id": f"{rule_id}-{prefix.rstrip('/').replace('/', '-')}"[:255],  # S3's limit on a rule id
            "status": "Enabled",
            "filter": {"prefix": prefix},
            "expiration": {"days": retention_days},
        }
        for prefix in sorted(prefixes)
    ]
