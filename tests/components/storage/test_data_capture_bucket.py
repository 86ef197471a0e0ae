"""DataCaptureBucket under Pulumi's mocks: a private bucket encrypted with a key of its own."""

from __future__ import annotations

import json

import pytest

from infra.components.storage.data_capture_bucket import DataCaptureBucket, DataCaptureBucketArgs
from tests.components.support import ACCOUNT, TAGS, Recorded, direct_children, outside, record_component

COMPONENT = "modelfleet:storage:DataCaptureBucket"
BUCKET = "aws:s3/bucket:Bucket"
KEY = "aws:kms/key:Key"
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"


def build(**changes) -> Recorded:
    fields = {
        "bucket_prefix": "modelfleet-test-capture-",
        "key_alias": "modelfleet-test-data-capture",
        "account_id": ACCOUNT,
        "partition": "aws",
        "tags": TAGS,
        "retention_days": 30,
        **changes,
    }
    return record_component(lambda: DataCaptureBucket("capture", DataCaptureBucketArgs(**fields)))


@pytest.fixture(scope="module")
def recorded() -> Recorded:
    return build()


def test_resources_and_parents(recorded):
    plan, root = recorded.plan, recorded.component(COMPONENT)
    assert direct_children(plan, root) == [
        (BUCKET, "capture-bucket"),
        (LIFECYCLE, "capture-lifecycle"),
        ("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "capture-ownership"),
        ("aws:s3/bucketPolicy:BucketPolicy", "capture-tls-only"),
        ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "capture-public-access"),
        (ENCRYPTION, "capture-encryption"),
        ("aws:s3/bucketVersioning:BucketVersioning", "capture-versioning"),
        ("modelfleet:security:EncryptionKey", "capture-kms"),
    ]
    assert outside(plan, root) == []
    assert [r.name for r in plan.of_type(KEY)] == ["capture-kms-key"]


def test_bucket_is_encrypted_with_its_own_rotating_key(recorded):
    key = recorded.plan.get(KEY, "capture-kms-key")
    (rule,) = recorded.plan.get(ENCRYPTION, "capture-encryption").inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "aws:kms",
        "kmsMasterKeyId": key.outputs["arn"],
    }
    assert key.inputs["enableKeyRotation"] is True
    alias = recorded.plan.get("aws:kms/alias:Alias", "capture-kms-alias").inputs
    assert alias["name"] == "alias/modelfleet-test-data-capture"


def test_key_is_used_through_iam_only(recorded):
    """SageMaker writes captures as the model's execution role, which IAM grants the key to."""
    (statement,) = json.loads(recorded.plan.get(KEY, "capture-kms-key").inputs["policy"])["Statement"]
    assert statement["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}


def test_bucket_is_tls_only_and_private(recorded):
    bucket = recorded.plan.get(BUCKET, "capture-bucket")
    assert bucket.inputs["bucketPrefix"] == "modelfleet-test-capture-"
    policy = json.loads(
        recorded.plan.get("aws:s3/bucketPolicy:BucketPolicy", "capture-tls-only").inputs["policy"]
    )
    (deny,) = policy["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny["Resource"] == [bucket.outputs["arn"], bucket.outputs["arn"] + "/*"]
    block = recorded.plan.get(
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "capture-public-access"
    )
    assert block.inputs["restrictPublicBuckets"] is True


def test_captures_expire_after_the_retention(recorded):
    (rule,) = recorded.plan.get(LIFECYCLE, "capture-lifecycle").inputs["rules"]
    assert (rule["id"], rule["status"], rule["expiration"]) == ("expire-captures", "Enabled", {"days": 30})


def test_registers_bucket_name_and_key_arn(recorded):
    bucket = recorded.plan.get(BUCKET, "capture-bucket")
    key = recorded.plan.get(KEY, "capture-kms-key")
    assert recorded.outputs_of(recorded.component(COMPONENT)) == {
        "bucket": bucket.outputs["bucket"],
        "key_arn": key.outputs["arn"],
    }
    assert bucket.outputs["bucket"].startswith("modelfleet-test-capture-")


def test_protect_keeps_bucket_and_key():
    protected = sorted((r.name, r.retain_on_delete) for r in build(protect=True).plan.resources if r.protect)
    assert protected == [("capture-bucket", True), ("capture-kms-key", True)]
