"""The images each pinned Helm chart runs, and the values keys that pin them (pure data).

Read from each chart's ``values.yaml`` and templates at the version pinned in
``infra/contracts/eks_versions.py`` (``read_at`` repeats that version: a test fails when a
chart is bumped until its images are read again). Only images the chart runs with
the values ``cluster_addons.py`` passes are listed: the chart's test pods
(``helm test``, never run by a Pulumi Release) and images behind disabled features
(Thanos, the admission-webhook Deployment, Grafana's chown init container without
persistence, kube-rbac-proxy) are not.

Charts spell a digest three ways, so each image says how (``DigestForm``):
- a chart without a digest key renders ``repository:tag``; ``tag@sha256:<hex>`` in the
  tag key pins it, and the tag stays visible;
- kube-prometheus-stack, its Grafana subchart: a ``sha`` key taking the bare hex
  (templates render ``:tag@sha256:{{ sha }}``);
- the kube-state-metrics subchart's ``sha`` and prometheus-node-exporter's ``digest``,
  and Karpenter's ``controller.image.digest``, take ``sha256:<hex>`` (templates render
  ``:tag@{{ digest }}``).
The tag is always set together with the digest, so the two cannot disagree.

A chart may pin its own image by digest in its values (Karpenter's does). That image
runs by digest even before the table knows it, so it is not warned about; once the
table has a digest, the table's pins it, as for every other image.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class DigestForm(StrEnum):
    IN_TAG = "in-tag"  # tag key gets "<tag>@sha256:<hex>"
    HEX = "hex"  # digest key gets "<hex>"
    PREFIXED = "prefixed"  # digest key gets "sha256:<hex>"


@dataclass(frozen=True)
class ChartImage:
    """One image a chart runs by default: its reference and where its values pin it."""

    key: str  # the stable key in infra/specs/image_digests.json
    image: str  # registry/repository:tag, as the chart renders it at ``read_at``
    tag_key: str  # dotted values path of the tag
    digest_key: str | None = None  # dotted values path of the digest; None for IN_TAG
    form: DigestForm = DigestForm.IN_TAG
    chart_digest: str | None = None  # sha256:<hex> the chart's own values pin at ``read_at``, if any

    @property
    def tag(self) -> str:
        return self.image.rsplit(":", 1)[1]


@dataclass(frozen=True)
class ChartImages:
    read_at: str  # the chart version these images were read from
    images: tuple[ChartImage, ...]


def _kps(key: str, image: str, path: str) -> ChartImage:
    return ChartImage(f"kube-prometheus-stack/{key}", image, f"{path}.tag", f"{path}.sha", DigestForm.HEX)


# The image repository whose tag eks_versions.VERSIONS[minor].cluster_autoscaler names.
CLUSTER_AUTOSCALER_REPOSITORY = "registry.k8s.io/autoscaling/cluster-autoscaler"

CHART_IMAGES: dict[str, ChartImages] = {
    "nvidia-device-plugin": ChartImages("0.18.0", (
        ChartImage("nvidia-device-plugin", "nvcr.io/nvidia/k8s-device-plugin:v0.18.0", "image.tag"),
    )),
    "aws-load-balancer-controller": ChartImages("1.14.0", (
        ChartImage("aws-load-balancer-controller",
                   "public.ecr.aws/eks/aws-load-balancer-controller:v2.14.0", "image.tag"),
    )),
    # One image per Kubernetes minor: cluster_autoscaler_image() below.
    "cluster-autoscaler": ChartImages("9.59.0", ()),
    "metrics-server": ChartImages("3.13.0", (
        ChartImage("metrics-server", "registry.k8s.io/metrics-server/metrics-server:v0.8.0", "image.tag"),
    )),
    "kube-prometheus-stack": ChartImages("79.7.1", (
        _kps("prometheus-operator", "quay.io/prometheus-operator/prometheus-operator:v0.86.2",
             "prometheusOperator.image"),
        _kps("prometheus-config-reloader", "quay.io/prometheus-operator/prometheus-config-reloader:v0.86.2",
             "prometheusOperator.prometheusConfigReloader.image"),
        _kps("admission-webhook-patch", "registry.k8s.io/ingress-nginx/kube-webhook-certgen:v1.6.4",
             "prometheusOperator.admissionWebhooks.patch.image"),
        _kps("prometheus", "quay.io/prometheus/prometheus:v3.7.3", "prometheus.prometheusSpec.image"),
        _kps("alertmanager", "quay.io/prometheus/alertmanager:v0.29.0",
             "alertmanager.alertmanagerSpec.image"),
        # Subcharts at the versions 79.7.1 depends on: kube-state-metrics 6.4.1,
        # prometheus-node-exporter 4.49.1, grafana 10.2.0.
        ChartImage("kube-prometheus-stack/kube-state-metrics",
                   "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.17.0",
                   "kube-state-metrics.image.tag", "kube-state-metrics.image.sha", DigestForm.PREFIXED),
        ChartImage("kube-prometheus-stack/node-exporter", "quay.io/prometheus/node-exporter:v1.10.2",
                   "prometheus-node-exporter.image.tag", "prometheus-node-exporter.image.digest",
                   DigestForm.PREFIXED),
        _kps("grafana", "docker.io/grafana/grafana:12.3.0", "grafana.image"),
        _kps("grafana-sidecar", "quay.io/kiwigrid/k8s-sidecar:1.30.10", "grafana.sidecar.image"),
    )),
    "dcgm-exporter": ChartImages("4.7.1", (
        ChartImage("dcgm-exporter", "nvcr.io/nvidia/k8s/dcgm-exporter:4.4.2-4.7.1-ubuntu22.04", "image.tag"),
    )),
    # The chart has no digest key: templates render registry/repository:tag, tag default appVersion.
    "keda": ChartImages("2.20.2", (
        ChartImage("keda/operator", "ghcr.io/kedacore/keda:2.20.2", "image.keda.tag"),
        ChartImage("keda/metrics-apiserver", "ghcr.io/kedacore/keda-metrics-apiserver:2.20.2",
                   "image.metricsApiServer.tag"),
        ChartImage("keda/admission-webhooks", "ghcr.io/kedacore/keda-admission-webhooks:2.20.2",
                   "image.webhooks.tag"),
    )),
    # CustomResourceDefinitions only: no workload, no image.
    "karpenter-crd": ChartImages("1.14.1", ()),
    # charts/karpenter/values.yaml at the v1.14.1 stable release: the chart pins its controller by digest.
    "karpenter": ChartImages("1.14.1", (
        ChartImage("karpenter", "public.ecr.aws/karpenter/controller:1.14.1", "controller.image.tag",
                   "controller.image.digest", DigestForm.PREFIXED,
                   chart_digest="sha256:445baefaaa689029cc12ac1f659b916b0b82fb14308ce536f8521fcf079116fa"),
    )),
}  # fmt: skip


def cluster_autoscaler_image(minor: str, tag: str) -> ChartImage:
    """The cluster-autoscaler for Kubernetes ``minor``: the chart's image at the version's tag."""
    return ChartImage(f"cluster-autoscaler-{minor}", f"{CLUSTER_AUTOSCALER_REPOSITORY}:{tag}", "image.tag")
