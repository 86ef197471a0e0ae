"""An IAM role for one Kubernetes service account, through EKS Pod Identity.

Pod Identity needs no OIDC provider and no per-cluster trust policy: the role
trusts the EKS pods service, and the association names the cluster, namespace
and service account that may use it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.specs import iam


@dataclass
class PodIdentityArgs:
    """Which cluster, namespace and service account get the role, and what the role may do."""

    cluster_name: pulumi.Input[str]  # the EKS cluster the association is made in
    cluster_arn: pulumi.Input[str]  # ARN of that cluster: the role trusts pods of this cluster only
    namespace: str  # the Kubernetes namespace of the service account
    service_account: str  # the service account whose pods get the role's credentials
    policy: pulumi.Input[Mapping[str, Any]]  # an IAM policy document (may hold Outputs)
    tags: Mapping[str, str]  # the stack's tags, on the role and the association
    account_id: pulumi.Input[str]  # the stack's account: the trust policy's aws:SourceAccount


class PodIdentity(pulumi.ComponentResource):
    """AWS credentials for one service account's pods, without an OIDC provider or the node role."""

    role: aws.iam.Role

    def __init__(self, name: str, args: PodIdentityArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("modelfleet:eks:PodIdentity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.role = aws.iam.Role(
            f"{name}-role",
            description=f"Pod Identity for {args.namespace}/{args.service_account}",
            assume_role_policy=pulumi.Output.all(args.account_id, args.cluster_arn).apply(
                lambda v: json.dumps(iam.pod_identity_trust(v[0], v[1]))
            ),
            tags=dict(args.tags),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-policy",
            role=self.role.id,
            policy=pulumi.Output.from_input(args.policy).apply(json.dumps),
            opts=child,
        )
        aws.eks.PodIdentityAssociation(
            f"{name}-association",
            cluster_name=args.cluster_name,
            namespace=args.namespace,
            service_account=args.service_account,
            role_arn=self.role.arn,
            tags=dict(args.tags),
            opts=child,
        )
        self.register_outputs({"role_arn": self.role.arn})
