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

from infra.tags import named


@dataclass
class VpcEndpointsArgs:
    vpc_id: pulumi.Input[str]
    vpc_cidr: str
    region: str
    account_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]  # private subnets, one per AZ
    route_table_ids: Sequence[pulumi.Input[str]]  # private route tables, for the S3 gateway
    services: Sequence[str]  # e.g. "sagemaker.runtime", "ecr.dkr"
    name_prefix: str
    tags: Mapping[str, str]


def own_principals_only(service: str, account_id: str) -> dict:
    """Endpoint policy: only this account's principals may use the endpoint.

    Without it, credentials from any account could move data out through it.
    Buckets owned by AWS (ECR image layers, DLC artifacts) stay reachable,
    because the caller is still one of ours.
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OnlyThisAccountsPrincipals",
                "Effect": "Allow",
                "Principal": "*",
                "Action": f"{service}:*",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:PrincipalAccount": account_id}},
            }
        ],
    }


class VpcEndpoints(pulumi.ComponentResource):
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
                    lambda account: json.dumps(own_principals_only("s3", account))
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
