"""Pinned versions for the EKS layer and their support windows, in one place (pure data).

A Kubernetes minor version is offered exactly when it has a row in ``VERSIONS``:
its managed add-on versions, the cluster-autoscaler that matches it, and the
dates EKS support ends. Helm charts are pinned to a chart version; upgrading one
is a reviewed change to this file and to ``chart_images.py`` (the images it runs).
Image digests are not here: ``image_digests.json`` holds them, per tag.

Support dates are Amazon EKS's release calendar ("Understand the Kubernetes
version lifecycle on EKS", docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html):
standard support lasts 14 months from the EKS release, extended support 12 more,
after which EKS upgrades the control plane itself. Extended support is billed at
a higher rate, which the price tables hold (eks:cluster-hour-extended-support).
Add-on versions are those ``aws eks describe-addon-versions --kubernetes-version``
lists for the minor (the AWS docs' add-on pages carry the same table).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum

# How long before the end of standard support a stack is warned to upgrade.
UPGRADE_WARNING_DAYS = 60


class Support(StrEnum):
    STANDARD = "standard"
    EXTENDED = "extended"  # billed at the extended-support rate
    ENDED = "ended"  # EKS upgrades such clusters on its own schedule


@dataclass(frozen=True)
class KubernetesVersion:
    """One Kubernetes minor version as EKS offers it, and what the stack pins for it."""

    minor: str
    end_of_standard: date  # the last day is the day before: support ends on this date
    end_of_extended: date
    addons: dict[str, str]  # managed add-on -> version
    cluster_autoscaler: str  # image tag; its minor must match the cluster's

    def support(self, today: date) -> Support:
        if today < self.end_of_standard:
            return Support.STANDARD
        if today < self.end_of_extended:
            return Support.EXTENDED
        return Support.ENDED

    def days_of_standard_left(self, today: date) -> int:
        return (self.end_of_standard - today).days


VERSIONS: dict[str, KubernetesVersion] = {
    v.minor: v
    for v in (
        KubernetesVersion(
            "1.31", date(2025, 11, 26), date(2026, 11, 26),
            {"vpc-cni": "v1.20.1-eksbuild.3", "coredns": "v1.11.4-eksbuild.24",
             "kube-proxy": "v1.31.13-eksbuild.2", "eks-pod-identity-agent": "v1.3.9-eksbuild.3"},
            "v1.31.4",
        ),
        KubernetesVersion(
            "1.32", date(2026, 3, 23), date(2027, 3, 23),
            {"vpc-cni": "v1.20.1-eksbuild.3", "coredns": "v1.11.4-eksbuild.24",
             "kube-proxy": "v1.32.9-eksbuild.2", "eks-pod-identity-agent": "v1.3.9-eksbuild.3"},
            "v1.32.3",
        ),
        KubernetesVersion(
            "1.33", date(2026, 7, 29), date(2027, 7, 29),
            {"vpc-cni": "v1.20.1-eksbuild.3", "coredns": "v1.12.4-eksbuild.1",
             "kube-proxy": "v1.33.5-eksbuild.2", "eks-pod-identity-agent": "v1.3.9-eksbuild.3"},
            "v1.33.1",
        ),
        KubernetesVersion(
            "1.34", date(2026, 12, 2), date(2027, 12, 2),
            {"vpc-cni": "v1.21.1-eksbuild.7", "coredns": "v1.13.2-eksbuild.4",
             "kube-proxy": "v1.34.6-eksbuild.2", "eks-pod-identity-agent": "v1.3.10-eksbuild.3"},
            "v1.34.2",
        ),
        KubernetesVersion(
            "1.35", date(2027, 3, 27), date(2028, 3, 27),
            {"vpc-cni": "v1.21.1-eksbuild.7", "coredns": "v1.13.2-eksbuild.4",
             "kube-proxy": "v1.35.3-eksbuild.2", "eks-pod-identity-agent": "v1.3.10-eksbuild.3"},
            "v1.35.2",
        ),
    )
}  # fmt: skip


def today() -> date:
    """The day support windows are judged on, in UTC: the one clock every check reads (tests pin it)."""
    return datetime.now(UTC).date()


def offered(today: date) -> list[str]:
    """Minor versions a new stack may still choose: not past extended support."""
    return [minor for minor, v in VERSIONS.items() if v.support(today) is not Support.ENDED]


def in_standard_support(today: date) -> list[str]:
    return [minor for minor, v in VERSIONS.items() if v.support(today) is Support.STANDARD]


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
    # 9.54.0 is the first chart whose default image is 1.35; the image tag is set per cluster version.
    "cluster-autoscaler": Chart("cluster-autoscaler", "https://kubernetes.github.io/autoscaler", "9.59.0"),
    "metrics-server": Chart("metrics-server", "https://kubernetes-sigs.github.io/metrics-server/", "3.13.0"),
    "kube-prometheus-stack": Chart(
        "kube-prometheus-stack", "https://prometheus-community.github.io/helm-charts", "79.7.1"
    ),
    "dcgm-exporter": Chart("dcgm-exporter", "https://nvidia.github.io/dcgm-exporter/helm-charts", "4.7.1"),
    # KEDA turns the runtimes' Prometheus series into scaling (prometheus-adapter is being
    # retired). 2.20 is tested on Kubernetes 1.33-1.35 (keda.sh's cluster compatibility table).
    "keda": Chart("keda", "https://kedacore.github.io/charts", "2.20.2"),
    # Karpenter, for `capacity: karpenter`: its CRDs from their own chart (Karpenter's upgrade guide
    # recommends it: Helm never upgrades the CRDs a chart ships in crds/), then the controller.
    # Karpenter has no LTS line: each minor gets patch releases for a while and its docs say to
    # keep current. 1.14.1 is the newest stable release we could verify (the "Stable Release
    # updates Release v1.14.1" commit of aws/karpenter-provider-aws, 2026-08-21: chart, CRDs and
    # controller digest); its compatibility table covers Kubernetes 1.26 to 1.36, every minor above.
    "karpenter-crd": Chart("karpenter-crd", "oci://public.ecr.aws/karpenter", "1.14.1"),
    "karpenter": Chart("karpenter", "oci://public.ecr.aws/karpenter", "1.14.1"),
}

# Charts one capacity option installs and the other does not; every other chart runs in every cluster.
CAPACITY_CHARTS: dict[str, tuple[str, ...]] = {
    "cluster-autoscaler": ("cluster-autoscaler",),
    "karpenter": ("karpenter-crd", "karpenter"),
}

# The EKS-optimized AL2023 release Karpenter's EC2NodeClasses pin (``alias: al2023@<release>``;
# Karpenter picks the NVIDIA variant for GPU instance types). awslabs/amazon-eks-ami's
# release notes for v20260714 list amazon-eks-node-al2023-x86_64-nvidia-<minor>-v20260714
# for 1.31 to 1.35. A newer release is a reviewed change here: nodes drift and are replaced.
KARPENTER_AMI_RELEASE = "v20260714"


# Pulls the model artifact into the pod before the server starts.
ARTIFACT_FETCHER_IMAGE = "public.ecr.aws/aws-cli/aws-cli:2.27.2"
