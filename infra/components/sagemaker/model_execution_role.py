"""The IAM role a SageMaker model runs as: its own artifacts, images, logs and keys only."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.specs import iam


@dataclass
class ModelExecutionRoleArgs:
    """Everything one model may touch: its artifacts, images, log group, keys, capture prefix and VPC."""

    account_id: pulumi.Input[str]  # the stack's account: SageMaker may assume the role only on its behalf
    artifact_arns: Sequence[str]  # s3 object ARNs, e.g. arn:aws:s3:::bucket/fraud/*
    repository_arns: Sequence[str]  # ECR repositories the images live in
    log_group_arn: pulumi.Input[str]  # ARN of the endpoint's own log group, the only one it may write
    key_arn: pulumi.Input[str]  # ARN of the endpoint's own KMS key (its volumes and logs)
    tags: Mapping[str, str]  # the model's tags, on the role
    # ARN of the model's prefix in the capture bucket, e.g. arn:aws:s3:::bucket/fraud/*;
    # capture is granted only when this and capture_key_arn are both set
    capture_object_arn: pulumi.Input[str] | None = None
    capture_key_arn: pulumi.Input[str] | None = None  # ARN of the capture bucket's KMS key
    vpc_arn: pulumi.Input[str] | None = None  # the stack's VPC, when the model runs in it
    # s3://bucket/dir/ weights a container downloads itself (LMI): it may list those directories only
    weight_prefixes: Sequence[str] = ()
    partition: str = "aws"  # the bucket ARNs of weight_prefixes


class ModelExecutionRole(pulumi.ComponentResource):
    """The role SageMaker runs one model as, allowed that model's own resources and nothing else."""

    role: aws.iam.Role
    arn: pulumi.Output[str]

    def __init__(self, name: str, args: ModelExecutionRoleArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("modelfleet:sagemaker:ModelExecutionRole", name, None, opts)
        self.role = aws.iam.Role(
            f"{name}-role",
            description="SageMaker execution role of one model endpoint",
            assume_role_policy=pulumi.Output.from_input(args.account_id).apply(
                lambda account: json.dumps(iam.service_trust("sagemaker.amazonaws.com", account))
            ),
            max_session_duration=3600,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        policy = pulumi.Output.all(
            args.log_group_arn, args.key_arn, args.capture_object_arn, args.capture_key_arn, args.vpc_arn
        ).apply(
            lambda v: json.dumps(
                iam.model_execution_policy(
                    artifact_arns=args.artifact_arns,
                    repository_arns=args.repository_arns,
                    log_group_arn=v[0],
                    key_arn=v[1],
                    capture_object_arn=v[2],
                    capture_key_arn=v[3],
                    vpc_arn=v[4],
                    list_prefixes=args.weight_prefixes,
                    partition=args.partition,
                )
            )
        )
        self.policy = aws.iam.RolePolicy(
            f"{name}-policy", role=self.role.id, policy=policy, opts=pulumi.ResourceOptions(parent=self)
        )
        self.arn = self.role.arn
        self.register_outputs({"arn": self.arn})
