"""Digest pinning in the shipped stacks' plans: what runs by tag is warned about, what is known is pinned.

The plans run the real program; a full table is swapped in for the shipped one to
see the pins reach the Helm releases and the pods. Its digests are computed from
made-up bytes: test data, never shipped.
"""

from __future__ import annotations

import hashlib

import pytest

from infra.contracts import eks_versions
from infra.plan import plan_stack
from infra.specs import image_digests, stack_images
from infra.specs.image_digests import Resolved
from tests.conftest import ROOT, stack_settings

RELEASE = "kubernetes:helm.sh/v3:Release"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
HEX = hashlib.sha256(b"a manifest").hexdigest()


def pod_images(plan) -> list[str]:
    specs = [d.inputs["spec"]["template"]["spec"] for d in plan.of_type(DEPLOYMENT)]
    return [c["image"] for s in specs for c in s.get("initContainers", []) + s["containers"]]


def value_at(values: dict, dotted: str):
    for part in dotted.split("."):
        values = values.get(part, {}) if isinstance(values, dict) else {}
    return values or None


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_every_image_the_program_runs_is_by_digest_or_in_the_table(shipped_plans, stack):
    plan = shipped_plans[stack]
    declared = {image.image for image in stack_images.declared()}
    for image in pod_images(plan):
        assert "@sha256:" in image or image in declared, image
    version = plan.get("aws:eks/cluster:Cluster", "platform-eks-cluster").inputs["version"]
    warned = [d.message for d in plan.diagnostics if "runs by tag, not digest" in d.message]
    capacity = stack_settings(stack).cluster.capacity  # the charts of its capacity option only
    unpinned = [
        image for image in stack_images.running(version, model_pods=True, capacity=capacity)
        if stack_images.runs_by_tag(image)
    ]  # fmt: skip
    assert len(warned) == len(unpinned)
    for image in unpinned:
        assert any(image.image in line for line in warned), image.key


def test_releases_carry_exactly_the_pins_the_table_knows(shipped_plans):
    plan = shipped_plans["staging"]
    for release in plan.of_type(RELEASE):
        values = release.inputs["values"]
        for image in stack_images.chart_images(release.inputs["name"], "1.35"):
            known = image_digests.digest_for(image_digests.shipped(), image.key, image.image)
            tag = value_at(values, image.tag_key) or ""
            digest = value_at(values, image.digest_key) if image.digest_key else None
            assert ("@sha256:" in tag or digest is not None) == (known is not None), image.key


def test_a_full_table_pins_every_release_and_pod_and_silences_the_warnings(monkeypatch):
    full = {
        image.key: Resolved(image.image, f"sha256:{HEX}", "2026-01-05T10:00:00+00:00", "https://r.test/v2/")
        for image in stack_images.declared()
    }
    monkeypatch.setattr(image_digests, "shipped", lambda: full)
    plan = plan_stack("staging", root=ROOT)
    assert not [d for d in plan.diagnostics if "runs by tag" in d.message]
    releases = {r.inputs["name"]: r.inputs["values"] for r in plan.of_type(RELEASE)}
    # Staging's GPU capacity is Karpenter's: its controller gets the table's digest beside its tag.
    assert releases["karpenter"]["controller"]["image"] == {"tag": "1.14.1", "digest": f"sha256:{HEX}"}
    assert releases["karpenter"]["settings"]["clusterName"]  # its own values kept
    assert "cluster-autoscaler" not in releases
    prometheus = releases["kube-prometheus-stack"]
    assert prometheus["prometheus"]["prometheusSpec"]["image"] == {"tag": "v3.7.3", "sha": HEX}
    assert prometheus["prometheus"]["prometheusSpec"]["serviceMonitorSelectorNilUsesHelmValues"] is False
    assert prometheus["grafana"]["sidecar"]["dashboards"]["enabled"] is True
    assert prometheus["grafana"]["sidecar"]["image"] == {"tag": "1.30.10", "sha": HEX}
    assert releases["dcgm-exporter"]["image"] == {"tag": f"4.4.2-4.7.1-ubuntu22.04@sha256:{HEX}"}
    assert all("@sha256:" in image for image in pod_images(plan))


def test_a_full_table_pins_cluster_autoscaler_where_it_runs(monkeypatch):
    full = {
        image.key: Resolved(image.image, f"sha256:{HEX}", "2026-01-05T10:00:00+00:00", "https://r.test/v2/")
        for image in stack_images.declared()
    }
    monkeypatch.setattr(image_digests, "shipped", lambda: full)
    plan = plan_stack("dev", root=ROOT)
    assert not [d for d in plan.diagnostics if "runs by tag" in d.message]
    releases = {r.inputs["name"]: r.inputs["values"] for r in plan.of_type(RELEASE)}
    autoscaler = eks_versions.VERSIONS["1.35"].cluster_autoscaler
    assert releases["cluster-autoscaler"]["image"]["tag"] == f"{autoscaler}@sha256:{HEX}"
    assert releases["cluster-autoscaler"]["autoDiscovery"]["clusterName"]  # its own values kept
