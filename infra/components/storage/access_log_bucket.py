"""Where load balancers' access logs go: one KMS-encrypted bucket per stack, fed by CloudWatch Logs.

The classic ``access_logs`` attribute of a load balancer writes only to SSE-S3
buckets. CloudWatch Logs vended delivery (delivery source -> destination ->
delivery) writes to an SSE-KMS bucket, so the logs get a key of their own like
every other store here. The bucket and key admit the log-delivery service only
for this account's delivery sources ("Enable logging from AWS services",
CloudWatch Logs user guide: logs sent to Amazon S3).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.components.security.encryption_key import EncryptionKey, EncryptionKeyArgs
from infra.components.storage.private_bucket import private_bucket, tls_only_statement

LOG_DELIVERY_SERVICE = "delivery.logs.amazonaws.com"


def delivery_source_arns(partition: str, region: str, account_id: str) -> str:
    return f"arn:{partition}:logs:{region}:{account_id}:delivery-source:*"


def only_our_sources(account_id: str, source_arns: str) -> dict[str, Any]:
    """The confused-deputy guard: the service acts only for this account's delivery sources."""
    return {"StringEquals": {"aws:SourceAccount": account_id}, "ArnLike": {"aws:SourceArn": source_arns}}


def log_delivery_bucket_policy(bucket_arn: str, account_id: str, source_arns: str) -> dict[str, Any]:
    """TLS only; the log-delivery service may write under AWSLogs/<account>/ for our sources only."""
    only_ours = only_our_sources(account_id, source_arns)
    owner_full_control = {"s3:x-amz-acl": "bucket-owner-full-control"}
    return {
        "Version": "2012-10-17",
        "Statement": [
            tls_only_statement(bucket_arn),
            {
                "Sid": "LogDeliveryWrite",
                "Effect": "Allow",
                "Principal": {"Service": LOG_DELIVERY_SERVICE},
                "Action": "s3:PutObject",
                "Resource": f"{bucket_arn}/AWSLogs/{account_id}/*",
                "Condition": {
                    **only_ours,
                    "StringEquals": {**only_ours["StringEquals"], **owner_full_control},
                },
            },
            {
                "Sid": "LogDeliveryAclCheck",
                "Effect": "Allow",
                "Principal": {"Service": LOG_DELIVERY_SERVICE},
                "Action": "s3:GetBucketAcl",
                "Resource": bucket_arn,
                "Condition": only_ours,
            },
        ],
    }


@dataclass
class AccessLogBucketArgs:
    """One stack's access-log store: named per environment, kept as long as its other logs."""

    bucket_prefix: str  # S3 bucket_prefix, within naming.BUCKET_PREFIX_LIMIT
    destination_name: str  # the CloudWatch Logs delivery destination (naming.AWS_NAME_LIMITS)
    key_alias: str  # alias of the bucket's own KMS key, without the "alias/" prefix
    region: str  # the stack's region: names this account's delivery sources in the grants
    account_id: pulumi.Input[str]  # the stack's account: the only one whose delivery sources may write
    partition: str  # aws, aws-cn or aws-us-gov: for the key policy's and the sources' ARNs
    retention_days: int  # days an access log is kept; the lifecycle rule then expires it
    tags: Mapping[str, str]  # the stack's tags, on the bucket, its key and the delivery destination
    protect: bool = False  # protect_stateful: Pulumi won't delete the bucket or key, and leaves them in AWS


class AccessLogBucket(pulumi.ComponentResource):
    """The bucket, its key and the delivery destination that each load balancer's delivery points at."""

    bucket: aws.s3.Bucket
    destination: aws.cloudwatch.LogDeliveryDestination

    def __init__(self, name: str, args: AccessLogBucketArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("modelfleet:storage:AccessLogBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        sources = pulumi.Output.from_input(args.account_id).apply(
            lambda account: delivery_source_arns(args.partition, args.region, account)
        )
        key = EncryptionKey(
            f"{name}-kms",
            EncryptionKeyArgs(
                description="Load balancer access logs",
                alias=args.key_alias,
                account_id=args.account_id,
                partition=args.partition,
                tags=args.tags,
                service=LOG_DELIVERY_SERVICE,
                service_condition=pulumi.Output.all(args.account_id, sources).apply(
                    lambda v: only_our_sources(v[0], v[1])
                ),
                protect=args.protect,
            ),
            opts=child,
        )
        account_and_sources = pulumi.Output.all(args.account_id, sources)
        self.bucket = private_bucket(
            self, name, args.bucket_prefix, key.arn, "expire-access-logs", args.retention_days, args.tags,
            lambda arn: account_and_sources.apply(lambda v: log_delivery_bucket_policy(arn, v[0], v[1])),
            protect=args.protect,
        )  # fmt: skip
        self.destination = aws.cloudwatch.LogDeliveryDestination(
            f"{name}-destination",
            name=args.destination_name,
            delivery_destination_configuration={"destination_resource_arn": self.bucket.arn},
            tags=dict(args.tags),
            opts=child,
        )
        self.register_outputs({"bucket": self.bucket.bucket, "destination_arn": self.destination.arn})
