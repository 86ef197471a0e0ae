"""The network path from a CI runner inside the VPC to the private Kubernetes API.

A private-only API endpoint is reachable only from inside the VPC (or networks
routed to it). This gives the deploy runner its own security group and opens the
cluster's security group to that group on 443, so `pulumi up` of the Kubernetes
and Helm resources works from the runner and from nowhere else. The runner itself
(a self-hosted GitHub Actions runner, for example CodeBuild-hosted) is launched
into the private subnets with this group: docs/deploy-runner.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.specs.tags import named


@dataclass
class DeployRunnerAccessArgs:
    """What the runner needs: the VPC to live in and the cluster group to reach."""

    vpc_id: pulumi.Input[str]  # the stack's VPC, where the runner's security group is made
    cluster_security_group_id: pulumi.Input[str]  # the EKS-managed cluster security group
    name_prefix: str  # for Name tags, e.g. modelfleet-prod
    tags: Mapping[str, str]  # the stack's tags, on the security group and its rules


class DeployRunnerAccess(pulumi.ComponentResource):
    """The runner's security group and the one rule that lets it reach the API server."""

    security_group: aws.ec2.SecurityGroup

    def __init__(self, name: str, args: DeployRunnerAccessArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("modelfleet:eks:DeployRunnerAccess", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=args.vpc_id,
            description="CI runner that deploys the stack: reaches the Kubernetes API and HTTPS services",
            revoke_rules_on_delete=True,
            tags=named(args.tags, f"{args.name_prefix}-deploy-runner"),
            opts=child,
        )
        # The runner fetches jobs from GitHub, state from the Pulumi backend, charts and
        # packages from their registries, and calls AWS APIs: all HTTPS, through NAT or endpoints.
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-https-out",
            security_group_id=self.security_group.id,
            description="HTTPS to GitHub, the state backend, chart registries and AWS APIs",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4="0.0.0.0/0",
            tags=dict(args.tags),
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-api",
            security_group_id=args.cluster_security_group_id,
            description="Kubernetes API from the deploy runner",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            referenced_security_group_id=self.security_group.id,
            tags=dict(args.tags),
            opts=child,
        )
        self.register_outputs({"security_group_id": self.security_group.id})
