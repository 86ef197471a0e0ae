"""The EKS control plane, its system nodes, managed add-ons and a Kubernetes provider.

Private subnets only; the API endpoint is private, plus public for an allow-list
outside prod. Secrets are envelope-encrypted and control-plane logs kept, both
with the cluster's own key. Access is through EKS access entries (API mode);
workloads get AWS credentials through EKS Pod Identity, never the node role.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from infra.components.eks.node_launch_template import node_launch_template
from infra.components.observability.encrypted_log_group import EncryptedLogGroup, EncryptedLogGroupArgs
from infra.contracts import eks_versions
from infra.specs import iam
from infra.specs.k8s_pods import POOL_LABEL, SYSTEM_POOL

NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly", "AmazonEKS_CNI_Policy")
ADMIN_POLICY = "arn:{partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"


@dataclass
class EksClusterArgs:
    """The control plane's name, version, network access, admins and logs, and its system nodes."""

    cluster_name: str  # the EKS cluster's name, up to 100 characters
    key_alias: str  # alias of the cluster's own KMS key (secrets and control-plane logs), no "alias/"
    region: str  # the stack's region: the log group's grants and the kubeconfig's get-token
    account_id: pulumi.Input[str]  # the stack's account: administers the key, in the log group's ARN
    partition: str  # aws, aws-cn or aws-us-gov: for the managed, access and key policies' ARNs
    version: str  # Kubernetes minor version, e.g. "1.35": a key of eks_versions.VERSIONS (pinned add-ons)
    upgrade_policy: str  # "standard" | "extended": what EKS does when standard support ends
    subnet_ids: Sequence[pulumi.Input[str]]  # private subnets
    public_access_cidrs: Sequence[str]  # empty: the API endpoint is private only
    private_access_cidrs: Sequence[str]  # may reach the private endpoint (e.g. deploy runners)
    admin_role_arns: Sequence[str]  # IAM role ARNs given cluster-admin through access entries
    # control-plane logs sent to CloudWatch: api, audit, authenticator, controllerManager, scheduler
    log_types: Sequence[str]
    log_retention_days: int  # days; CloudWatch Logs accepts only its fixed set of values
    system_instance_type: str  # CPU instance type of the system node group (add-ons, controllers)
    system_min_size: int  # fewest system nodes; also the size the group starts at
    system_max_size: int  # most system nodes
    tags: Mapping[str, str]  # the stack's tags, on every taggable resource of the cluster
    # protect_stateful: Pulumi won't delete the cluster, key or log group, and EKS's own
    # deletion protection is on
    protect: bool = False


def kubeconfig(name: str, endpoint: str, certificate: str, region: str) -> dict:
    """A kubeconfig that authenticates with `aws eks get-token` (no static credentials)."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": name, "cluster": {"server": endpoint, "certificate-authority-data": certificate}}
        ],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
        "current-context": name,
        "users": [
            {
                "name": name,
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": "aws",
                        "args": ["eks", "get-token", "--cluster-name", name, "--region", region],
                    }
                },
            }
        ],
    }


class EksCluster(pulumi.ComponentResource):
    """A private EKS control plane with its own key, its system nodes, add-ons and a provider for it."""

    cluster: aws.eks.Cluster
    node_role: aws.iam.Role
    node_role_policies: list[aws.iam.RolePolicyAttachment]  # node groups wait for these
    provider: k8s.Provider

    def __init__(self, name: str, args: EksClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("modelfleet:eks:EksCluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # One key for the control-plane logs and, through the cluster role, for secrets.
        logs = EncryptedLogGroup(
            f"{name}-logs",
            EncryptedLogGroupArgs(
                log_group_name=f"/aws/eks/{args.cluster_name}/cluster",
                key_alias=args.key_alias,
                description=f"EKS {args.cluster_name}: secrets and control-plane logs",
                region=args.region,
                account_id=args.account_id,
                partition=args.partition,
                retention_days=args.log_retention_days,
                tags=args.tags,
                protect=args.protect,
            ),
            opts=child,
        )
        key, log_group = logs.key, logs.log_group
        role, cluster_policies = self._role(
            f"{name}-cluster", "eks.amazonaws.com", ["AmazonEKSClusterPolicy"], args
        )
        secrets_access = aws.iam.RolePolicy(
            f"{name}-cluster-kms",
            role=role.id,
            policy=key.arn.apply(
                lambda arn: json.dumps(
                    iam.document(
                        iam.allow(["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:ListGrants"], [arn])
                    )
                )
            ),
            opts=child,
        )
        self.cluster = aws.eks.Cluster(
            f"{name}-cluster",
            name=args.cluster_name,
            version=args.version,
            # Explicit, so the end-of-support behaviour is reviewed, not the API's default (EXTENDED).
            upgrade_policy={"support_type": args.upgrade_policy.upper()},
            role_arn=role.arn,
            vpc_config={
                "subnet_ids": list(args.subnet_ids),
                "endpoint_private_access": True,
                "endpoint_public_access": bool(args.public_access_cidrs),
                "public_access_cidrs": list(args.public_access_cidrs) or None,
            },
            encryption_config={"provider": {"key_arn": key.arn}, "resources": ["secrets"]},
            enabled_cluster_log_types=list(args.log_types),
            # API mode: who may do what is in access entries, visible in previews.
            access_config={"authentication_mode": "API", "bootstrap_cluster_creator_admin_permissions": True},
            deletion_protection=args.protect,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=args.protect,
                # EKS needs its role's policy attached before it creates the cluster, and
                # until it has deleted it (network interfaces, security groups): the same
                # ordering Terraform's aws_eks_cluster documentation prescribes.
                depends_on=[log_group, secrets_access, *cluster_policies],
            ),
        )
        # The cluster security group admits only itself: `pulumi up` must come from these networks.
        for index, cidr in enumerate(args.private_access_cidrs):
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-api-{index}",
                security_group_id=self.cluster.vpc_config.cluster_security_group_id,
                description="Kubernetes API from a deploy network",
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                cidr_ipv4=cidr,
                tags=dict(args.tags),
                opts=child,
            )
        for index, principal in enumerate(args.admin_role_arns):
            entry = aws.eks.AccessEntry(
                f"{name}-admin-{index}",
                cluster_name=self.cluster.name,
                principal_arn=principal,
                type="STANDARD",
                tags=dict(args.tags),
                opts=child,
            )
            aws.eks.AccessPolicyAssociation(
                f"{name}-admin-{index}",
                cluster_name=self.cluster.name,
                principal_arn=entry.principal_arn,
                policy_arn=ADMIN_POLICY.format(partition=args.partition),
                access_scope={"type": "cluster"},
                opts=child,
            )

        self.node_role, self.node_role_policies = self._role(
            f"{name}-node", "ec2.amazonaws.com", NODE_POLICIES, args
        )
        template = node_launch_template(f"{name}-system", "standard", 50, args.tags, self)
        system_nodes = aws.eks.NodeGroup(
            f"{name}-system",
            cluster_name=self.cluster.name,
            node_role_arn=self.node_role.arn,
            subnet_ids=list(args.subnet_ids),
            ami_type="AL2023_x86_64_STANDARD",
            instance_types=[args.system_instance_type],
            capacity_type="ON_DEMAND",
            scaling_config={
                "min_size": args.system_min_size,
                "max_size": args.system_max_size,
                "desired_size": args.system_min_size,
            },
            update_config={"max_unavailable": 1},
            launch_template={"id": template.id, "version": template.latest_version.apply(str)},
            labels={POOL_LABEL: SYSTEM_POOL},
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(
                parent=self,
                ignore_changes=["scalingConfig.desiredSize"],
                depends_on=self.node_role_policies,  # nodes join only with these attached
            ),
        )
        self.addons = {}
        for addon, version in eks_versions.VERSIONS[args.version].addons.items():
            self.addons[addon] = aws.eks.Addon(
                f"{name}-{addon}",
                cluster_name=self.cluster.name,
                addon_name=addon,
                addon_version=version,
                resolve_conflicts_on_create="OVERWRITE",
                resolve_conflicts_on_update="OVERWRITE",
                # Without the VPC CNI's agent, NetworkPolicies are accepted and ignored.
                configuration_values=json.dumps({"enableNetworkPolicy": "true"})
                if addon == "vpc-cni"
                else None,
                tags=dict(args.tags),
                # coredns needs nodes to become ACTIVE.
                opts=pulumi.ResourceOptions(parent=self, depends_on=[system_nodes]),
            )
        config = pulumi.Output.all(
            self.cluster.name, self.cluster.endpoint, self.cluster.certificate_authority.data
        ).apply(lambda v: json.dumps(kubeconfig(v[0], v[1], v[2], args.region)))
        self.provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=pulumi.Output.secret(config),
            enable_server_side_apply=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(self.addons.values())),
        )
        self.cluster_name = self.cluster.name
        self.register_outputs({"cluster_name": self.cluster.name, "endpoint": self.cluster.endpoint})

    def _role(
        self, name: str, service: str, managed: Sequence[str], args: EksClusterArgs
    ) -> tuple[aws.iam.Role, list[aws.iam.RolePolicyAttachment]]:
        role = aws.iam.Role(
            name,
            assume_role_policy=json.dumps(
                {
                    "Version": iam.VERSION,
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": service},
                            "Action": ["sts:AssumeRole", "sts:TagSession"]
                            if service == "eks.amazonaws.com"
                            else "sts:AssumeRole",
                        }
                    ],
                }
            ),
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        attachments = [
            aws.iam.RolePolicyAttachment(
                f"{name}-{policy}",
                role=role.name,
                policy_arn=f"arn:{args.partition}:iam::aws:policy/{policy}",
                opts=pulumi.ResourceOptions(parent=self),
            )
            for policy in managed
        ]
        return role, attachments
