"""The network a SageMaker model's containers get in the stack's VPC: HTTPS to AWS APIs, nothing else.

Shared by a model's own endpoint and a shared endpoint: a security group whose
only egress is HTTPS to the VPC's interface endpoints and to S3 through the
gateway endpoint, in the private subnets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class HttpsOnlyNetwork:
    """Where the containers' network interfaces go, and the only places they may reach."""

    vpc_id: pulumi.Input[str]  # the stack's VPC
    vpc_cidr: str  # its interface endpoints live here: HTTPS allowed
    subnet_ids: Sequence[pulumi.Input[str]]  # private subnets only
    s3_prefix_list_id: pulumi.Input[str]  # the S3 gateway endpoint's prefix list: artifacts and capture


def https_only_vpc_config(
    parent: pulumi.Resource, name: str, network: HttpsOnlyNetwork, what: str, tags: Mapping[str, str]
) -> dict[str, Any]:
    """A security group (a child of ``parent``) and the VpcConfig that puts the containers behind it."""
    group = aws.ec2.SecurityGroup(
        f"{name}-sg",
        vpc_id=network.vpc_id,
        description=f"{what}: HTTPS to VPC endpoints and S3 only",
        revoke_rules_on_delete=True,
        tags=dict(tags),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    egress = (
        ("https-vpc", "HTTPS to the VPC's interface endpoints", {"cidr_ipv4": network.vpc_cidr}),
        (
            "https-s3",
            "HTTPS to S3 through the gateway endpoint",
            {"prefix_list_id": network.s3_prefix_list_id},
        ),
    )
    for rule, description, target in egress:
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-{rule}",
            security_group_id=group.id,
            description=description,
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            tags=dict(tags),
            opts=pulumi.ResourceOptions(parent=parent),
            **target,
        )
    return {"subnets": list(network.subnet_ids), "security_group_ids": [group.id]}
