"""private_bucket under Pulumi's mocks: the seven resources every stack bucket is made of.

A helper, not a component: it declares its resources under the component that
calls it, so the test calls it from a small component of its own.
"""

from __future__ import annotations

import json

import pulumi
import pytest

from infra.components.storage.private_bucket import private_bucket, tls_only_policy, tls_only_statement
from tests.components.support import TAGS, Recorded, direct_children, known, outside, record_component

HOLDER = "test:storage:Holder"
KEY_ARN = "arn:aws:kms:eu-west-1:111122223333:key/0f0f0f0f-1111-2222-3333-444455556666"
BUCKET = "aws:s3/bucket:Bucket"
SETTINGS = {
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": "store-ownership",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "store-public-access",
    "aws:s3/bucketVersioning:BucketVersioning": "store-versioning",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": "store-encryption",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": "store-lifecycle",
    "aws:s3/bucketPolicy:BucketPolicy": "store-tls-only",
}


class Holder(pulumi.ComponentResource):
    def __init__(self, name: str, protect: bool, policy):
        super().__init__(HOLDER, name, None, None)
        self.bucket = private_bucket(
            self, name, "modelfleet-test-store-", known(KEY_ARN), "expire-store", 30, TAGS,
            policy, protect=protect,
        )  # fmt: skip
        self.register_outputs({})


def build(protect: bool = False, policy=tls_only_policy) -> Recorded:
    return record_component(lambda: Holder("store", protect, policy))


def inputs(recorded: Recorded, type_token: str) -> dict:
    return recorded.plan.get(type_token, SETTINGS[type_token]).inputs


@pytest.fixture(scope="module")
def recorded() -> Recorded:
    return build()


def test_bucket_and_its_six_settings_are_children_of_the_caller(recorded):
    holder = recorded.component(HOLDER)
    assert direct_children(recorded.plan, holder) == sorted([(BUCKET, "store-bucket"), *SETTINGS.items()])
    assert outside(recorded.plan, holder) == []


def test_every_setting_applies_to_this_bucket(recorded):
    bucket_id = recorded.plan.get(BUCKET, "store-bucket").id
    for type_token in SETTINGS:
        assert inputs(recorded, type_token)["bucket"] == bucket_id, type_token


def test_bucket_is_prefixed_not_named_and_never_force_destroyed(recorded):
    bucket = recorded.plan.get(BUCKET, "store-bucket").inputs
    assert bucket == {"bucketPrefix": "modelfleet-test-store-", "forceDestroy": False, "tags": TAGS}


def test_acls_are_off_and_public_access_blocked(recorded):
    ownership = inputs(recorded, "aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    assert ownership["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    block = inputs(recorded, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    for setting in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
        assert block[setting] is True, setting


def test_versioning_is_enabled(recorded):
    versioning = inputs(recorded, "aws:s3/bucketVersioning:BucketVersioning")
    assert versioning["versioningConfiguration"] == {"status": "Enabled"}


def test_default_encryption_is_sse_kms_with_the_callers_key_and_a_bucket_key(recorded):
    encryption = inputs(
        recorded, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    )
    (rule,) = encryption["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "aws:kms",
        "kmsMasterKeyId": KEY_ARN,
    }
    assert rule["bucketKeyEnabled"] is True


def test_lifecycle_expires_objects_old_versions_and_abandoned_uploads(recorded):
    (rule,) = inputs(recorded, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")["rules"]
    assert rule["id"] == "expire-store"
    assert rule["status"] == "Enabled"
    assert rule["filter"] == {}  # S3 requires a filter (or prefix) on every rule; empty means all objects
    assert rule["expiration"] == {"days": 30}
    assert rule["noncurrentVersionExpiration"] == {"noncurrentDays": 7}
    assert rule["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 1}


def test_policy_denies_everything_without_tls_on_bucket_and_objects(recorded):
    arn = recorded.plan.get(BUCKET, "store-bucket").outputs["arn"]
    policy = json.loads(inputs(recorded, "aws:s3/bucketPolicy:BucketPolicy")["policy"])
    assert policy == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [arn, f"{arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }


def test_policy_builder_gets_the_bucket_arn_and_may_return_outputs():
    def policy(arn: str):
        extra = {"Sid": "Extra", "Effect": "Allow", "Principal": {"Service": "example.amazonaws.com"},
                 "Action": "s3:GetObject", "Resource": known(f"{arn}/extra/*")}  # fmt: skip
        return {"Version": "2012-10-17", "Statement": [tls_only_statement(arn), extra]}

    recorded = build(policy=policy)
    arn = recorded.plan.get(BUCKET, "store-bucket").outputs["arn"]
    statements = json.loads(inputs(recorded, "aws:s3/bucketPolicy:BucketPolicy")["policy"])["Statement"]
    assert [s["Sid"] for s in statements] == ["DenyInsecureTransport", "Extra"]
    assert statements[1]["Resource"] == f"{arn}/extra/*"


def test_protect_keeps_the_bucket_only(recorded):
    assert [r.name for r in recorded.plan.resources if r.protect] == []
    protected = build(protect=True).plan
    assert [(r.name, r.retain_on_delete) for r in protected.resources if r.protect] == [
        ("store-bucket", True)
    ]
