"""Every image the EKS layer runs that no stack file names, pinned by digest where known (pure).

Three kinds: the ``fetch-model`` init container (``eks_versions.ARTIFACT_FETCHER_IMAGE``),
cluster-autoscaler at the tag of the cluster's Kubernetes version, and each Helm
chart's own images (``chart_images.py``). A cluster runs the charts of its capacity
option only (``eks_versions.CAPACITY_CHARTS``: cluster-autoscaler, or Karpenter).
Their digests come from the digest table (``image_digests.py``); one without a digest
runs by tag and is named in a warning, unless its chart pins a digest of its own.

Not here, on purpose: model images, which the catalog already requires as
``<ecr>@sha256:<digest>``; and AWS Deep Learning Containers that SageMaker
``framework:`` models resolve by tag through the SageMaker SDK (``infra/specs/images.py``),
the one documented exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from infra.contracts import eks_versions
from infra.specs import image_digests
from infra.specs.chart_images import CHART_IMAGES, ChartImage, DigestForm, cluster_autoscaler_image
from infra.specs.image_digests import Resolved

FETCHER_KEY = "artifact-fetcher"
REFRESH_HINT = "run `modelfleet images refresh`"


@dataclass(frozen=True)
class StackImage:
    key: str  # the key in infra/specs/image_digests.json
    image: str  # registry/repository:tag
    chart_digest: str | None = None  # the digest its chart pins by default, if the chart pins one


def chart_images(chart_key: str, kubernetes_version: str) -> tuple[ChartImage, ...]:
    """The images ``chart_key`` runs on a cluster of ``kubernetes_version``."""
    if chart_key == "cluster-autoscaler":
        tag = eks_versions.VERSIONS[kubernetes_version].cluster_autoscaler
        return (cluster_autoscaler_image(kubernetes_version, tag),)
    return CHART_IMAGES[chart_key].images


DEFAULT_CAPACITY = "cluster-autoscaler"


def charts(capacity: str = DEFAULT_CAPACITY) -> list[str]:
    """The charts a cluster with ``capacity`` (cluster-autoscaler or karpenter) installs, in pin order."""
    others = {
        key for option, keys in eks_versions.CAPACITY_CHARTS.items() if option != capacity for key in keys
    }
    return [key for key in eks_versions.CHARTS if key not in others]


def running(
    kubernetes_version: str, *, model_pods: bool, capacity: str = DEFAULT_CAPACITY
) -> list[StackImage]:
    """What a stack with a cluster of ``kubernetes_version`` runs; the fetcher only with EKS models."""
    images = [
        StackImage(image.key, image.image, image.chart_digest)
        for chart_key in charts(capacity)
        for image in chart_images(chart_key, kubernetes_version)
    ]
    if model_pods:
        images.append(StackImage(FETCHER_KEY, eks_versions.ARTIFACT_FETCHER_IMAGE))  # fetch-model
    return images


def declared() -> list[StackImage]:
    """Every image any stack may run, for every Kubernetes version and capacity option."""
    found: dict[str, StackImage] = {}
    for minor in eks_versions.VERSIONS:
        for capacity in eks_versions.CAPACITY_CHARTS:
            for image in running(minor, model_pods=True, capacity=capacity):
                found.setdefault(image.key, image)
    return list(found.values())


def _table(table: Mapping[str, Resolved] | None) -> Mapping[str, Resolved]:
    return image_digests.shipped() if table is None else table


def _nested(path: str, value: str) -> dict[str, Any]:
    node: dict[str, Any] = {}
    *parents, leaf = path.split(".")
    inner = node
    for part in parents:
        inner = inner.setdefault(part, {})
    inner[leaf] = value
    return node


def merged(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``override`` laid over it, nested mappings merged key by key."""
    result = dict(base)
    for key, value in override.items():
        inner = result.get(key)
        both = isinstance(inner, Mapping) and isinstance(value, Mapping)
        result[key] = merged(inner, value) if both else value
    return result


def _pin(image: ChartImage, digest: str) -> dict[str, Any]:
    if image.form is DigestForm.IN_TAG:
        return _nested(image.tag_key, f"{image.tag}@{digest}")
    assert image.digest_key is not None
    value = digest.removeprefix("sha256:") if image.form is DigestForm.HEX else digest
    return merged(_nested(image.tag_key, image.tag), _nested(image.digest_key, value))


def pinned_values(
    chart_key: str, kubernetes_version: str, table: Mapping[str, Resolved] | None = None
) -> dict[str, Any]:
    """Helm values that pin the chart's images whose digest is known; nothing for the others.

    An image without a digest keeps the chart's default (and is warned about), so an
    empty table changes no values at all.
    """
    values: dict[str, Any] = {}
    for image in chart_images(chart_key, kubernetes_version):
        digest = image_digests.digest_for(_table(table), image.key, image.image)
        if digest is not None:
            values = merged(values, _pin(image, digest))
    return values


def artifact_fetcher(table: Mapping[str, Resolved] | None = None) -> str:
    """The init container's image: ``repository:tag@sha256:...`` when known, else by tag."""
    image = eks_versions.ARTIFACT_FETCHER_IMAGE
    digest = image_digests.digest_for(_table(table), FETCHER_KEY, image)
    return f"{image}@{digest}" if digest else image


def runs_by_tag(image: StackImage, table: Mapping[str, Resolved] | None = None) -> bool:
    """Whether ``image`` would run by tag: the table has no digest for it and its chart pins none."""
    return (
        image.chart_digest is None and image_digests.digest_for(_table(table), image.key, image.image) is None
    )


def unpinned_warnings(
    kubernetes_version: str,
    *,
    model_pods: bool,
    capacity: str = DEFAULT_CAPACITY,
    table: Mapping[str, Resolved] | None = None,
) -> list[str]:
    """One line per image the stack would run by tag, naming it and the fix."""
    lines = []
    table = _table(table)
    for image in running(kubernetes_version, model_pods=model_pods, capacity=capacity):
        if not runs_by_tag(image, table):
            continue
        entry = table.get(image.key)
        stale = f"; its digest is for {entry.image}" if entry and entry.digest else ""
        lines.append(f"image {image.image} runs by tag, not digest ({image.key}{stale}): {REFRESH_HINT}")
    return lines
