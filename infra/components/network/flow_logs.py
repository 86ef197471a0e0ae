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
    """Which VPC to record, where its flow records go, and how much of them to keep for how long."""

    vpc_id: pulumi.Input[str]  # the VPC whose traffic is recorded
    log_group_name: str  # the CloudWatch log group the records go to, e.g. /modelfleet/<env>/vpc-flow-logs
    key_alias: str  # alias of the log group's own KMS key, without the "alias/" prefix
    region: str  # the stack's region: the delivery role trusts only this region's flow logs
    account_id: pulumi.Input[str]  # the stack's account: the delivery role trusts only its flow logs
    partition: pulumi.Input[str]  # aws, aws-cn or aws-us-gov: for the ARNs in the trust and key policies
    tags: Mapping[str, str]  # the stack's tags, on the log group, key, role and flow log
    retention_days: int = 365  # days; CloudWatch Logs accepts only its fixed set of values (RetentionDays)
    traffic_type: str = "ALL"  # ALL, ACCEPT or REJECT: which flows are recorded
    # seconds flows are aggregated before a record is written: 60 or 600, the only values AWS accepts
    max_aggregation_interval_seconds: int = 600
    # protect_stateful: Pulumi won't delete the log group or key, and leaves them in AWS
    protect: bool = False


class FlowLogs(pulumi.ComponentResource):
    """The VPC's record of who talked to what, encrypted, written by a role that can do nothing else."""

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
