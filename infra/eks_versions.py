"""Pinned versions for the EKS layer, in one place (pure data).

Managed add-ons are pinned per Kubernetes minor version: a cluster version is
supported exactly when it has a row here. Helm charts are pinned to a chart
version; upgrading one is a reviewed change to this file.
"""

from __future__ import annotations

from dataclasses import dataclass

# Managed add-on versions per Kubernetes minor version.
ADDONS: dict[str, dict[str, str]] = {
    "1.31": {
        "vpc-cni": "v1.20.1-eksbuild.3",
        "coredns": "v1.11.4-eksbuild.24",
        "kube-proxy": "v1.31.13-eksbuild.2",
        "eks-pod-identity-agent": "v1.3.9-eksbuild.3",
    },
    "1.32": {
        "vpc-cni": "v1.20.1-eksbuild.3",
        "coredns": "v1.11.4-eksbuild.24",
        "kube-proxy": "v1.32.9-eksbuild.2",
        "eks-pod-identity-agent": "v1.3.9-eksbuild.3",
    },
    "1.33": {
        "vpc-cni": "v1.20.1-eksbuild.3",
        "coredns": "v1.12.4-eksbuild.1",
        "kube-proxy": "v1.33.5-eksbuild.2",
        "eks-pod-identity-agent": "v1.3.9-eksbuild.3",
    },
}


@dataclass(frozen=True)
class Chart:
    name: str
    repository: str
    version: str


CHARTS: dict[str, Chart] = {
    "nvidia-device-plugin": Chart(
        "nvidia-device-plugin", "https://nvidia.github.io/k8s-device-plugin", "0.18.0"
    ),
    "aws-load-balancer-controller": Chart(
        "aws-load-balancer-controller", "https://aws.github.io/eks-charts", "1.14.0"
    ),
    "cluster-autoscaler": Chart("cluster-autoscaler", "https://kubernetes.github.io/autoscaler", "9.50.1"),
    "metrics-server": Chart("metrics-server", "https://kubernetes-sigs.github.io/metrics-server/", "3.13.0"),
    "kube-prometheus-stack": Chart(
        "kube-prometheus-stack", "https://prometheus-community.github.io/helm-charts", "79.7.1"
    ),
    "dcgm-exporter": Chart("dcgm-exporter", "https://nvidia.github.io/dcgm-exporter/helm-charts", "4.7.1"),
    "prometheus-adapter": Chart(
        "prometheus-adapter", "https://prometheus-community.github.io/helm-charts", "5.3.0"
    ),
}

# cluster-autoscaler must match the cluster's minor version.
CLUSTER_AUTOSCALER_IMAGE: dict[str, str] = {"1.31": "v1.31.4", "1.32": "v1.32.3", "1.33": "v1.33.1"}

# Pulls the model artifact into the pod before the server starts.
ARTIFACT_FETCHER_IMAGE = "public.ecr.aws/aws-cli/aws-cli:2.27.2"
