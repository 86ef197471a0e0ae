"""Karpenter, when it provides the cluster's GPU capacity (``modelfleet:cluster.capacity: karpenter``).

What its getting-started guide sets up around the controller, as a stack's resources:
- a node role of its own for the instances it launches, with the node group's
  managed policies, and an ``EC2_LINUX`` access entry so those instances can join
  (EKS makes that entry itself only for managed node groups; and an IAM principal
  can be in one access entry only, so the system group's role cannot be reused);
- the interruption queue and its EventBridge rules (``karpenter_interruption_queue.py``);
- the controller's credentials through EKS Pod Identity, its policy held to this
  cluster and that node role (``iam.karpenter_controller_policy``);
- the CRDs from their own chart, then the controller, both at the version pinned in
  ``eks_versions.CHARTS``, in kube-system and on the system node group: never on
  capacity it manages (the chart also keeps it off nodes that carry a NodePool label).

The node pools themselves (EC2NodeClass and NodePool) are ``karpenter_node_pool.py``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from infra.components.eks.eks_cluster import NODE_POLICIES
from infra.components.eks.karpenter_interruption_queue import (
    KarpenterInterruptionQueue,
    KarpenterInterruptionQueueArgs,
)
from infra.components.eks.pod_identity import PodIdentity, PodIdentityArgs
from infra.contracts import eks_versions
from infra.specs import iam, stack_images
from infra.specs.k8s_pods import POOL_LABEL, SYSTEM_POOL

NAMESPACE = "kube-system"  # as Karpenter's getting-started guide installs it
SERVICE_ACCOUNT = "karpenter"


def controller_values(
    cluster_name: pulumi.Input[str], queue_name: pulumi.Input[str], region: str
) -> dict[str, Any]:
    """The chart values that matter here; everything else keeps the chart's defaults."""
    return {
        "settings": {"clusterName": cluster_name, "interruptionQueue": queue_name},
        "serviceAccount": {"create": True, "name": SERVICE_ACCOUNT},
        "replicas": 2,  # the chart's default: on two system nodes (its anti-affinity), one leads
        # The system node group, never a node Karpenter launched: it would be deciding about itself.
        "nodeSelector": {"kubernetes.io/os": "linux", POOL_LABEL: SYSTEM_POOL},
        "controller": {
            # Pods cannot reach the instance metadata (hop limit 1), so the region is told.
            "env": [{"name": "AWS_REGION", "value": region}],
            # The chart sets no resources; these are the getting-started guide's.
            "resources": {
                "requests": {"cpu": "1", "memory": "1Gi"},
                "limits": {"cpu": "1", "memory": "1Gi"},
            },
        },
    }


@dataclass
class KarpenterArgs:
    """The cluster Karpenter manages capacity for, where its queue is, and how to reach the cluster."""

    cluster_name: pulumi.Input[str]  # the EKS cluster: the controller's settings.clusterName, policy scopes
    cluster_arn: pulumi.Input[str]  # ARN of that cluster: the controller's Pod Identity trusts it only
    kubernetes_version: (
        str  # the cluster's minor version, e.g. "1.35": the digest table's pins are per version
    )
    region: str  # the stack's region: the controller's AWS_REGION, and in its policy's ARNs
    partition: str  # aws, aws-cn or aws-us-gov: for the policy's and the node role's ARNs
    account_id: pulumi.Input[str]  # the stack's account: the controller acts in it only
    queue_name: str  # name of the interruption queue, up to 80 characters (SQS's limit)
    provider: k8s.Provider  # the cluster's Kubernetes provider, from EksCluster
    tags: Mapping[str, str]  # the stack's tags, on the node role, queue, rules, access entry and identity


class Karpenter(pulumi.ComponentResource):
    """Karpenter's controller, its interruption queue and the node role its instances join with."""

    node_role: aws.iam.Role
    queue: KarpenterInterruptionQueue
    releases: dict[str, k8s.helm.v3.Release]

    def __init__(self, name: str, args: KarpenterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("modelfleet:eks:Karpenter", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.node_role = aws.iam.Role(
            f"{name}-node",
            description="Instances Karpenter launches for the GPU pools",
            assume_role_policy=json.dumps(
                iam.document(
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "ec2.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                )
            ),
            tags=dict(args.tags),
            opts=child,
        )
        attachments = [
            aws.iam.RolePolicyAttachment(
                f"{name}-node-{policy}",
                role=self.node_role.name,
                policy_arn=f"arn:{args.partition}:iam::aws:policy/{policy}",
                opts=child,
            )
            for policy in NODE_POLICIES
        ]
        access = aws.eks.AccessEntry(
            f"{name}-node-access",
            cluster_name=args.cluster_name,
            principal_arn=self.node_role.arn,
            type="EC2_LINUX",
            tags=dict(args.tags),
            opts=child,
        )
        self.queue = KarpenterInterruptionQueue(
            f"{name}-interruption",
            KarpenterInterruptionQueueArgs(queue_name=args.queue_name, tags=args.tags),
            opts=child,
        )
        identity = PodIdentity(
            f"{name}-controller",
            PodIdentityArgs(
                cluster_name=args.cluster_name,
                cluster_arn=args.cluster_arn,
                namespace=NAMESPACE,
                service_account=SERVICE_ACCOUNT,
                policy=pulumi.Output.all(
                    args.account_id, args.cluster_name, self.node_role.arn, self.queue.queue.arn
                ).apply(lambda v: iam.karpenter_controller_policy(args.partition, args.region, *v)),
                tags=args.tags,
                account_id=args.account_id,
            ),
            opts=child,
        )
        self.releases = {}
        crds = self._release(name, "karpenter-crd", {}, args, [])
        self._release(
            name,
            "karpenter",
            controller_values(args.cluster_name, self.queue.queue.name, args.region),
            args,
            # Credentials before the pods start; nodes can join once their role may.
            [crds, identity, access, *attachments],
            skip_crds=True,  # the karpenter-crd release owns them
        )
        self.register_outputs({"node_role_name": self.node_role.name, "queue_name": self.queue.queue.name})

    def _release(
        self,
        name: str,
        chart_key: str,
        values: dict[str, Any],
        args: KarpenterArgs,
        depends_on: list[pulumi.Resource],
        skip_crds: bool = False,
    ) -> k8s.helm.v3.Release:
        chart = eks_versions.CHARTS[chart_key]
        pins = stack_images.pinned_values(chart_key, args.kubernetes_version)
        self.releases[chart_key] = k8s.helm.v3.Release(
            f"{name}-{chart_key}",
            name=chart_key,
            chart=f"{chart.repository}/{chart.name}",  # an OCI chart: the registry is in the reference
            version=chart.version,
            namespace=NAMESPACE,
            values=stack_images.merged(values, pins),
            skip_crds=skip_crds,
            atomic=True,
            timeout=900,
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=depends_on),
        )
        return self.releases[chart_key]
