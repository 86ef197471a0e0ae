"""Private access to AWS APIs: an S3 gateway endpoint and interface endpoints.

Model images, artifacts, metrics and logs then travel inside the VPC instead of
through NAT: cheaper per GB, and it keeps working in a stack with no NAT at all.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.specs import iam
from infra.specs.tags import named


@dataclass
class VpcEndpointsArgs:
    """The VPC, the subnets and route tables the endpoints serve, and which AWS services they reach."""

    vpc_id: pulumi.Input[str]  # the VPC the endpoints and their security group live in
    vpc_cidr: str  # the VPC's CIDR block: the only source the endpoints accept HTTPS from
    region: str  # the stack's region: in every endpoint's service name, com.amazonaws.<region>.<service>
    account_id: pulumi.Input[str]  # the S3 gateway admits only this account's principals and buckets
    subnet_ids: Sequence[pulumi.Input[str]]  # private subnets, one per AZ
    route_table_ids: Sequence[pulumi.Input[str]]  # private route tables, for the S3 gateway
    services: Sequence[str]  # e.g. "sagemaker.runtime", "ecr.dkr"
    name_prefix: str  # start of the Name tags, e.g. modelfleet-prod
    tags: Mapping[str, str]  # the stack's tags, on the security group, its rule and every endpoint


# What workloads do with their own buckets through the gateway: read artifacts
# (nodes' init containers, SageMaker model downloads), write data capture, list a prefix.
OWN_BUCKET_ACTIONS = (
    "s3:AbortMultipartUpload",
    "s3:GetBucketLocation",
    "s3:GetObject",
    "s3:ListBucket",
    "s3:ListMultipartUploadParts",
    "s3:PutObject",
)


def s3_gateway_policy(account_id: str, region: str) -> dict:
    """S3 gateway endpoint policy: our principals to our buckets, plus the AWS-owned layers ECR serves.

    - Our principals may reach only buckets of this account (``aws:ResourceAccount``),
      so stolen credentials can't copy data to someone else's bucket through the VPC.
    - ECR serves every image layer, ours, EKS add-ons' and SageMaker DLCs' alike, from an
      AWS-owned bucket through a URL that ECR's own account presigns, so neither account
      condition can hold for it: that one bucket is allowed by name, read-only. This is
      ECR's documented minimum ("Minimum Amazon S3 bucket permissions for Amazon ECR",
      ECR user guide, VPC endpoints) and a statement of AWS's data-perimeter example policy.
    - Not allowed: Amazon Linux package repositories (``al2023-repos-<region>-de612dc2``).
      Nodes boot from EKS-optimized AMIs and never run dnf; a stack whose nodes do must add them.
    """
    partition = iam.partition_for(region)
    return iam.document(
        {
            "Sid": "OurPrincipalsToOurBuckets",
            "Effect": "Allow",
            "Principal": "*",
            "Action": sorted(OWN_BUCKET_ACTIONS),
            "Resource": "*",
            "Condition": {
                "StringEquals": {"aws:PrincipalAccount": account_id, "aws:ResourceAccount": account_id}
            },
        },
        {
            "Sid": "EcrImageLayers",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:{partition}:s3:::prod-{region}-starport-layer-bucket/*",
        },
    )


class VpcEndpoints(pulumi.ComponentResource):
    """Private paths to AWS APIs, so images, artifacts, metrics and logs need no NAT."""

    security_group: aws.ec2.SecurityGroup
    endpoints: dict[str, aws.ec2.VpcEndpoint]

    def __init__(self, name: str, args: VpcEndpointsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("modelfleet:network:VpcEndpoints", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=args.vpc_id,
            description="HTTPS from inside the VPC to AWS interface endpoints",
            revoke_rules_on_delete=True,
            tags=named(args.tags, f"{args.name_prefix}-endpoints"),
            opts=child,
        )
        # Rules as their own resources (not inline) so that a change diffs as one rule.
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-https-from-vpc",
            security_group_id=self.security_group.id,
            description="HTTPS from the VPC only",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4=args.vpc_cidr,
            tags=dict(args.tags),
            opts=child,
        )
        self.endpoints = {
            "s3": aws.ec2.VpcEndpoint(
                f"{name}-s3",
                vpc_id=args.vpc_id,
                service_name=f"com.amazonaws.{args.region}.s3",
                vpc_endpoint_type="Gateway",
                route_table_ids=list(args.route_table_ids),
                policy=pulumi.Output.from_input(args.account_id).apply(
                    lambda account: json.dumps(s3_gateway_policy(account, args.region))
                ),
                tags=named(args.tags, f"{args.name_prefix}-s3"),
                opts=child,
            )
        }
        for service in args.services:
            self.endpoints[service] = aws.ec2.VpcEndpoint(
                f"{name}-{service.replace('.', '-')}",
                vpc_id=args.vpc_id,
                service_name=f"com.amazonaws.{args.region}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=list(args.subnet_ids),
                security_group_ids=[self.security_group.id],
                tags=named(args.tags, f"{args.name_prefix}-{service}"),
                opts=child,
            )
        self.register_outputs(
            {
                "security_group_id": self.security_group.id,
                "endpoint_ids": {svc: ep.id for svc, ep in self.endpoints.items()},
            }
        )
