"""AccessLogBucket under Pulumi's mocks: a KMS-encrypted bucket CloudWatch Logs delivery may write to."""

from __future__ import annotations

import json

import pytest

from infra.components.storage.access_log_bucket import AccessLogBucket, AccessLogBucketArgs
from tests.components.support import (
    ACCOUNT,
    TAGS,
    Recorded,
    direct_children,
    known,
    outside,
    record_component,
)

COMPONENT = "modelfleet:storage:AccessLogBucket"
BUCKET = "aws:s3/bucket:Bucket"
KEY = "aws:kms/key:Key"
DESTINATION = "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination"
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
POLICY = "aws:s3/bucketPolicy:BucketPolicy"
SOURCES = f"arn:aws:logs:eu-west-1:{ACCOUNT}:delivery-source:*"
ONLY_OURS = {"StringEquals": {"aws:SourceAccount": ACCOUNT}, "ArnLike": {"aws:SourceArn": SOURCES}}


def build(**changes) -> Recorded:
    fields = {
        "bucket_prefix": "modelfleet-test-lb-logs-",
        "destination_name": "modelfleet-test-lb-access-logs",
        "key_alias": "modelfleet-test-lb-access-logs",
        "region": "eu-west-1",
        "account_id": known(ACCOUNT),
        "partition": "aws",
        "retention_days": 90,
        "tags": TAGS,
        **changes,
    }
    return record_component(lambda: AccessLogBucket("lb-logs", AccessLogBucketArgs(**fields)))


@pytest.fixture(scope="module")
def recorded() -> Recorded:
    return build()


def test_resources_and_parents(recorded):
    plan, root = recorded.plan, recorded.component(COMPONENT)
    assert direct_children(plan, root) == [
        (DESTINATION, "lb-logs-destination"),
        (BUCKET, "lb-logs-bucket"),
        (LIFECYCLE, "lb-logs-lifecycle"),
        ("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "lb-logs-ownership"),
        (POLICY, "lb-logs-tls-only"),
        ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "lb-logs-public-access"),
        (ENCRYPTION, "lb-logs-encryption"),
        ("aws:s3/bucketVersioning:BucketVersioning", "lb-logs-versioning"),
        ("modelfleet:security:EncryptionKey", "lb-logs-kms"),
    ]
    assert outside(plan, root) == []


def test_bucket_is_sse_kms_with_its_own_key(recorded):
    key = recorded.plan.get(KEY, "lb-logs-kms-key")
    (rule,) = recorded.plan.get(ENCRYPTION, "lb-logs-encryption").inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "aws:kms",
        "kmsMasterKeyId": key.outputs["arn"],
    }
    assert key.inputs["enableKeyRotation"] is True


def test_log_delivery_may_use_the_key_for_this_accounts_sources_only(recorded):
    policy = json.loads(recorded.plan.get(KEY, "lb-logs-kms-key").inputs["policy"])
    service = next(s for s in policy["Statement"] if s.get("Sid") == "ServiceUsesKey")
    assert service["Principal"] == {"Service": "delivery.logs.amazonaws.com"}
    assert service["Condition"] == ONLY_OURS
    assert {"kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt"} <= set(service["Action"])


def test_bucket_policy_lets_log_delivery_write_under_awslogs_of_this_account(recorded):
    arn = recorded.plan.get(BUCKET, "lb-logs-bucket").outputs["arn"]
    statements = {
        s["Sid"]: s
        for s in json.loads(recorded.plan.get(POLICY, "lb-logs-tls-only").inputs["policy"])["Statement"]
    }
    assert set(statements) == {"DenyInsecureTransport", "LogDeliveryWrite", "LogDeliveryAclCheck"}
    assert statements["DenyInsecureTransport"]["Effect"] == "Deny"
    assert statements["DenyInsecureTransport"]["Resource"] == [arn, f"{arn}/*"]
    write = statements["LogDeliveryWrite"]
    assert write["Principal"] == {"Service": "delivery.logs.amazonaws.com"}
    assert write["Action"] == "s3:PutObject"
    assert write["Resource"] == f"{arn}/AWSLogs/{ACCOUNT}/*"
    assert write["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT, "s3:x-amz-acl": "bucket-owner-full-control"},
        "ArnLike": {"aws:SourceArn": SOURCES},
    }
    check = statements["LogDeliveryAclCheck"]
    assert (check["Action"], check["Resource"], check["Condition"]) == ("s3:GetBucketAcl", arn, ONLY_OURS)


def test_destination_points_at_the_bucket(recorded):
    destination = recorded.plan.get(DESTINATION, "lb-logs-destination").inputs
    assert destination["name"] == "modelfleet-test-lb-access-logs"
    bucket_arn = recorded.plan.get(BUCKET, "lb-logs-bucket").outputs["arn"]
    assert destination["deliveryDestinationConfiguration"] == {"destinationResourceArn": bucket_arn}


def test_logs_expire_after_the_retention(recorded):
    (rule,) = recorded.plan.get(LIFECYCLE, "lb-logs-lifecycle").inputs["rules"]
    assert (rule["id"], rule["expiration"]) == ("expire-access-logs", {"days": 90})


def test_partition_reaches_the_source_arns():
    recorded = build(partition="aws-cn", region="cn-north-1")
    policy = json.loads(recorded.plan.get(POLICY, "lb-logs-tls-only").inputs["policy"])
    write = next(s for s in policy["Statement"] if s["Sid"] == "LogDeliveryWrite")
    assert write["Condition"]["ArnLike"] == {
        "aws:SourceArn": f"arn:aws-cn:logs:cn-north-1:{ACCOUNT}:delivery-source:*"
    }


def test_registers_bucket_and_destination(recorded):
    bucket = recorded.plan.get(BUCKET, "lb-logs-bucket")
    destination = recorded.plan.get(DESTINATION, "lb-logs-destination")
    assert recorded.outputs_of(recorded.component(COMPONENT)) == {
        "bucket": bucket.outputs["bucket"],
        "destination_arn": destination.outputs["arn"],
    }


def test_protect_keeps_bucket_and_key_not_the_destination():
    protected = sorted(r.name for r in build(protect=True).plan.resources if r.protect)
    assert protected == ["lb-logs-bucket", "lb-logs-kms-key"]
