"""VPC flow logs into a KMS-encrypted CloudWatch log group.

Flow logs are the record of who talked to what inside the VPC: they are kept
encrypted with a key of their own, for the tier's retention, and the delivery
role can write to this one log group only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.components.observability.encrypted_log_group import EncryptedLogGroup, EncryptedLogGroupArgs
from infra.specs import iam


@dataclass
class FlowLogsArgs:
    vpc_id: pulumi.Input[str]
    log_group_name: str
    key_alias: str
    region: str
    account_id: pulumi.Input[str]
    partition: pulumi.Input[str]
    tags: Mapping[str, str]
    retention_days: int = 365
    traffic_type: str = "ALL"
    max_aggregation_interval_seconds: int = 600
    protect: bool = False


class FlowLogs(pulumi.ComponentResource):
    log_group: aws.cloudwatch.LogGroup

    def __init__(self, name: str, args: FlowLogsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("modelfleet:network:FlowLogs", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        logs = EncryptedLogGroup(
            f"{name}-log",
            EncryptedLogGroupArgs(
                log_group_name=args.log_group_name,
                key_alias=args.key_alias,
                description=f"VPC flow logs in {args.log_group_name}",
                region=args.region,
                account_id=args.account_id,
                partition=args.partition,
                retention_days=args.retention_days,
                tags=args.tags,
                protect=args.protect,
            ),
            opts=child,
        )
        self.log_group = logs.log_group
        log_group_arn = logs.arn
        role = aws.iam.Role(
            f"{name}-role",
            description="Delivers VPC flow logs to CloudWatch Logs",
            assume_role_policy=pulumi.Output.all(args.partition, args.account_id).apply(
                lambda v: json.dumps(
                    iam.service_trust(
                        "vpc-flow-logs.amazonaws.com",
                        v[1],
                        source_arn=f"arn:{v[0]}:ec2:{args.region}:{v[1]}:vpc-flow-log/*",
                    )
                )
            ),
            tags=dict(args.tags),
            opts=child,
        )
        writes = ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"]
        delivery = aws.iam.RolePolicy(
            f"{name}-delivery",
            role=role.id,
            policy=log_group_arn.apply(
                lambda arn: json.dumps(
                    iam.document(
                        iam.allow(writes, [arn, f"{arn}:*"]),
                        # The service looks its group up before writing; this reveals names only.
                        iam.allow(["logs:DescribeLogGroups"], [arn.rsplit(":", 1)[0] + ":*"]),
                    )
                )
            ),
            opts=child,
        )
        aws.ec2.FlowLog(
            f"{name}-vpc",
            vpc_id=args.vpc_id,
            traffic_type=args.traffic_type,
            log_destination_type="cloud-watch-logs",
            log_destination=self.log_group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=args.max_aggregation_interval_seconds,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[delivery]),  # permissions first
        )
        self.register_outputs({"log_group_name": self.log_group.name})
