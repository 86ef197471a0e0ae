"""S3 buckets: KMS-encrypted, private, versioned and TLS-only.

Since pulumi-aws 6 these settings live on sibling resources (a BucketVersioning
that names the bucket), so the rules look across the stack, linking a sibling to
its bucket by the bucket's name or id.
"""

from __future__ import annotations

from policies.rules._support import as_list, of_type, stack_rule, statements, truthy

BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")


def _identities(bucket) -> set[str]:
    return {str(v) for v in (bucket.props.get("bucket"), bucket.props.get("id")) if v}


def _siblings(resources, bucket, *types):
    names = _identities(bucket)
    return [r for r in of_type(resources, *types) if str(r.props.get("bucket")) in names]


def _kms_encrypted(resources, _config):
    for bucket in of_type(resources, *BUCKETS):
        configs = _siblings(
            resources,
            bucket,
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        )
        rules = [rule for c in configs for rule in as_list(c.props.get("rules"))]
        inline = (bucket.props.get("serverSideEncryptionConfiguration") or {}).get("rule")
        rules += as_list(inline)
        by_default = [r.get("applyServerSideEncryptionByDefault") or {} for r in rules]
        if not any(
            d.get("sseAlgorithm", "").startswith("aws:kms") and d.get("kmsMasterKeyId") for d in by_default
        ):
            yield f"bucket {bucket.name} is not encrypted with a customer-managed KMS key", bucket.urn


def _public_access_blocked(resources, _config):
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    for bucket in of_type(resources, *BUCKETS):
        blocks = _siblings(resources, bucket, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
        if not any(all(truthy(b.props.get(flag)) for flag in flags) for b in blocks):
            yield f"bucket {bucket.name} does not block public access with all four settings", bucket.urn


def _versioned(resources, _config):
    for bucket in of_type(resources, *BUCKETS):
        versioning = _siblings(
            resources,
            bucket,
            "aws:s3/bucketVersioning:BucketVersioning",
            "aws:s3/bucketVersioningV2:BucketVersioningV2",
        )
        if not any(
            (v.props.get("versioningConfiguration") or {}).get("status") == "Enabled" for v in versioning
        ):
            yield f"bucket {bucket.name} is not versioned", bucket.urn


def _denies_plain_http(statement) -> bool:
    condition = (statement.get("Condition") or {}).get("Bool") or {}
    return statement.get("Effect") == "Deny" and str(condition.get("aws:SecureTransport")).lower() == "false"


def _tls_only(resources, _config):
    for bucket in of_type(resources, *BUCKETS):
        policies = _siblings(resources, bucket, "aws:s3/bucketPolicy:BucketPolicy")
        if not any(_denies_plain_http(s) for p in policies for s in statements(p.props.get("policy"))):
            yield (
                f"bucket {bucket.name} has no policy denying requests without TLS (aws:SecureTransport)",
                bucket.urn,
            )


S3_KMS = stack_rule(
    "s3-bucket-kms", "S3 buckets are encrypted with a customer-managed KMS key", _kms_encrypted
)
S3_PUBLIC_ACCESS = stack_rule(
    "s3-public-access-blocked", "S3 buckets block every form of public access", _public_access_blocked
)
S3_VERSIONING = stack_rule("s3-versioning", "S3 buckets keep object versions", _versioned)
S3_TLS_ONLY = stack_rule("s3-tls-only", "S3 bucket policies deny requests made without TLS", _tls_only)

RULES = [S3_KMS, S3_PUBLIC_ACCESS, S3_VERSIONING, S3_TLS_ONLY]
