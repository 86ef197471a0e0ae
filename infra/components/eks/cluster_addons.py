"""What the cluster runs for everyone: GPUs, load balancer binding, scaling, metrics.

Helm releases at pinned chart versions (``infra/contracts/eks_versions.py``):
- NVIDIA device plugin, so pods can request ``nvidia.com/gpu``;
- AWS Load Balancer Controller, binding pods to the stack's target groups;
- cluster-autoscaler, resizing the declared node groups, unless the cluster's GPU capacity is
  Karpenter's (``karpenter.py``; docs/architecture.md compares the two);
- metrics-server, kube-prometheus-stack, DCGM exporter for GPU metrics, and KEDA,
  which scales each model's Deployments on its runtime's own Prometheus series;
- a Grafana dashboard for serving and GPU metrics, as a labelled ConfigMap.

Every release's values pin the chart's images by digest where the digest table
knows it (``infra/specs/stack_images.py``); the others keep the chart's default tag.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from infra.components.eks.pod_identity import PodIdentity, PodIdentityArgs
from infra.contracts import eks_versions
from infra.specs import iam, stack_images
from infra.specs.grafana import serving_dashboard
from infra.specs.k8s_pods import AMI_LABEL, GPU_TOLERATION
from infra.specs.model_scaling import MONITORING

SYSTEM = "kube-system"


@dataclass
class ClusterAddonsArgs:
    """The cluster to install into and what its controllers need to know about the account and VPC."""

    cluster_name: pulumi.Input[str]  # the EKS cluster: in the controllers' values and Pod Identities
    cluster_arn: pulumi.Input[str]  # ARN of the cluster: scopes the controllers' roles to it
    kubernetes_version: str  # the cluster's minor version, e.g. "1.35": picks the pinned image tags
    region: str  # the stack's region: told to the controllers (pods can't reach IMDS), and in policy ARNs
    partition: str  # aws, aws-cn or aws-us-gov: for the ARNs in the load balancer controller's policy
    account_id: pulumi.Input[str]  # the stack's account: the controllers' roles trust and act in it only
    vpc_id: pulumi.Input[str]  # the stack's VPC: the load balancer controller's vpcId
    vpc_arn: pulumi.Input[str]  # ARN of that VPC: the only one whose security groups the controller may open
    provider: k8s.Provider  # the cluster's Kubernetes provider, from EksCluster
    tags: Mapping[str, str]  # the stack's tags, on the controllers' IAM roles and Pod Identity associations
    # install cluster-autoscaler and its Pod Identity; False when Karpenter provides the GPU capacity
    cluster_autoscaler: bool = True


class ClusterAddons(pulumi.ComponentResource):
    """What the cluster runs for every model: GPU plugin, load balancer binding, autoscaling, metrics."""

    releases: dict[str, k8s.helm.v3.Release]

    def __init__(self, name: str, args: ClusterAddonsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("modelfleet:eks:ClusterAddons", name, None, opts)
        on_cluster = pulumi.ResourceOptions(parent=self, provider=args.provider)
        self.releases = {}
        self._kubernetes_version = args.kubernetes_version
        monitoring = k8s.core.v1.Namespace(
            f"{name}-monitoring", metadata={"name": MONITORING}, opts=on_cluster
        )
        controller = PodIdentity(
            f"{name}-lb-controller",
            PodIdentityArgs(
                cluster_name=args.cluster_name,
                cluster_arn=args.cluster_arn,
                namespace=SYSTEM,
                service_account="aws-load-balancer-controller",
                policy=pulumi.Output.all(args.account_id, args.vpc_arn, args.cluster_name).apply(
                    lambda v: iam.target_group_binding_policy(args.partition, args.region, v[0], v[1], v[2])
                ),
                tags=args.tags,
                account_id=args.account_id,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        autoscaler = self._autoscaler_identity(name, args) if args.cluster_autoscaler else None
        gpu_nodes = {"nodeSelector": {"nvidia.com/gpu.present": "true"}, "tolerations": [GPU_TOLERATION]}
        # Bottlerocket's NVIDIA variant runs its own device plugin; only AL2023 nodes need this one.
        al2023_gpu_nodes = {
            **gpu_nodes,
            "nodeSelector": {"nvidia.com/gpu.present": "true", AMI_LABEL: "al2023"},
        }
        self._release(name, "nvidia-device-plugin", SYSTEM, al2023_gpu_nodes, on_cluster)
        self._release(
            name,
            "aws-load-balancer-controller",
            SYSTEM,
            {
                "clusterName": args.cluster_name,
                "region": args.region,  # pods cannot reach IMDS (hop limit 1)
                "vpcId": args.vpc_id,
                "serviceAccount": {"create": True, "name": "aws-load-balancer-controller"},
                "enableServiceMutatorWebhook": False,  # the stack owns every load balancer
                "replicaCount": 2,
            },
            pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[controller]),
        )
        if autoscaler is not None:
            self._cluster_autoscaler(name, args, autoscaler)
        self._release(name, "metrics-server", SYSTEM, {}, on_cluster)
        after_namespace = pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[monitoring])
        prometheus = self._release(
            name,
            "kube-prometheus-stack",
            MONITORING,
            {
                # Pick up every ServiceMonitor and PodMonitor, not only the chart's own.
                "prometheus": {
                    "prometheusSpec": {
                        "serviceMonitorSelectorNilUsesHelmValues": False,
                        "podMonitorSelectorNilUsesHelmValues": False,
                    }
                },
                "grafana": {
                    "sidecar": {
                        "dashboards": {"enabled": True, "label": "grafana_dashboard", "labelValue": "1"}
                    }
                },
            },
            after_namespace,
        )
        after_prometheus = pulumi.ResourceOptions(
            parent=self, provider=args.provider, depends_on=[prometheus]
        )
        self._release(name, "dcgm-exporter", MONITORING, {**gpu_nodes, "serviceMonitor": {"enabled": True}},
                      after_prometheus)  # fmt: skip
        self._release(name, "keda", SYSTEM, {}, after_prometheus)
        k8s.core.v1.ConfigMap(
            f"{name}-serving-dashboard",
            metadata={
                "name": "modelfleet-serving",
                "namespace": MONITORING,
                "labels": {"grafana_dashboard": "1"},
            },
            data={"modelfleet-serving.json": json.dumps(serving_dashboard())},
            opts=after_namespace,
        )
        self.register_outputs({"releases": {k: r.status for k, r in self.releases.items()}})

    def _autoscaler_identity(self, name: str, args: ClusterAddonsArgs) -> PodIdentity:
        return PodIdentity(
            f"{name}-cluster-autoscaler",
            PodIdentityArgs(
                cluster_name=args.cluster_name,
                cluster_arn=args.cluster_arn,
                namespace=SYSTEM,
                service_account="cluster-autoscaler",
                policy=pulumi.Output.from_input(args.cluster_arn).apply(iam.cluster_autoscaler_policy),
                tags=args.tags,
                account_id=args.account_id,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _cluster_autoscaler(self, name: str, args: ClusterAddonsArgs, identity: PodIdentity) -> None:
        self._release(
            name,
            "cluster-autoscaler",
            SYSTEM,
            {
                "autoDiscovery": {"clusterName": args.cluster_name},
                "awsRegion": args.region,
                "image": {"tag": eks_versions.VERSIONS[args.kubernetes_version].cluster_autoscaler},
                "rbac": {"serviceAccount": {"create": True, "name": "cluster-autoscaler"}},
                "extraArgs": {"balance-similar-node-groups": True, "expander": "least-waste"},
            },
            pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[identity]),
        )

    def _release(
        self, name: str, chart_key: str, namespace: str, values: dict[str, Any], opts: pulumi.ResourceOptions
    ) -> k8s.helm.v3.Release:
        chart = eks_versions.CHARTS[chart_key]
        pins = stack_images.pinned_values(chart_key, self._kubernetes_version)
        self.releases[chart_key] = k8s.helm.v3.Release(
            f"{name}-{chart_key}",
            name=chart_key,  # fixed release names give predictable service names
            chart=chart.name,
            version=chart.version,
            repository_opts={"repo": chart.repository},
            namespace=namespace,
            values=stack_images.merged(values, pins),
            atomic=True,
            timeout=900,
            opts=opts,
        )
        return self.releases[chart_key]
