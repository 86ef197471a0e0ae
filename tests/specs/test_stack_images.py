"""Images the EKS layer runs by tag: the digest table, Helm values that pin them, the warnings.

Digests here are computed from made-up manifest bytes: test data, never shipped.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from infra.contracts import eks_versions
from infra.specs import image_digests, stack_images
from infra.specs.chart_images import CHART_IMAGES, DigestForm
from infra.specs.image_digests import DigestTableError, Resolved, digest_for, parse

HEX = hashlib.sha256(b'{"schemaVersion":2}').hexdigest()
DIGEST = f"sha256:{HEX}"


def resolved(image: str) -> Resolved:
    return Resolved(image, DIGEST, "2026-01-05T10:00:00+00:00", "https://example.test/v2/x/manifests/t")


def table_of(*keys: str) -> dict[str, Resolved]:
    images = {image.key: image.image for image in stack_images.declared()}
    return {key: resolved(images[key]) for key in keys}


def test_every_chart_is_read_at_its_pinned_version():
    assert set(CHART_IMAGES) == set(eks_versions.CHARTS)
    for chart_key, chart in eks_versions.CHARTS.items():
        assert CHART_IMAGES[chart_key].read_at == chart.version, f"re-read {chart_key}'s images"


CRDS_ONLY = {"karpenter-crd"}  # charts that install CustomResourceDefinitions and run nothing


def test_every_chart_and_kubernetes_version_has_images_and_keys_are_unique():
    for minor in eks_versions.VERSIONS:
        for chart_key in eks_versions.CHARTS:
            assert bool(stack_images.chart_images(chart_key, minor)) != (chart_key in CRDS_ONLY), chart_key
        for capacity in eks_versions.CAPACITY_CHARTS:
            keys = [image.key for image in stack_images.running(minor, model_pods=True, capacity=capacity)]
            assert len(keys) == len(set(keys))
    autoscalers = {i.key: i.image for i in stack_images.declared() if i.key.startswith("cluster-autoscaler")}
    assert autoscalers == {
        f"cluster-autoscaler-{minor}": f"registry.k8s.io/autoscaling/cluster-autoscaler:{v.cluster_autoscaler}"
        for minor, v in eks_versions.VERSIONS.items()
    }


def test_the_shipped_table_covers_exactly_the_declared_images():
    table = image_digests.load()
    declared = {image.key: image.image for image in stack_images.declared()}
    assert set(table) == set(declared)
    for key, entry in table.items():
        # A tag may lag behind (the digest is then unused and warned about); the repository may not.
        assert entry.image.rsplit(":", 1)[0] == declared[key].rsplit(":", 1)[0], key


def test_the_table_refuses_a_digest_that_is_not_sha256_or_has_no_origin():
    with pytest.raises(DigestTableError) as error:
        parse({"images": {"a": {"image": "r/x:1", "digest": "sha256:abc"},
                          "b": {"image": "r/y:1", "digest": DIGEST},
                          "c": {"image": "r/z:1", "tag": "1"}}})  # fmt: skip
    message = str(error.value)
    assert "a: digest must be sha256" in message and "b: a digest needs resolved_at" in message
    assert "c: " in message and "unexpected keyword argument 'tag'" in message
    assert parse({"images": {"a": {"image": "r/x:1", "digest": None}}}) == {"a": Resolved("r/x:1")}


def test_a_digest_applies_only_to_the_reference_it_was_resolved_for():
    table = {"k": resolved("r/x:1")}
    assert digest_for(table, "k", "r/x:1") == DIGEST
    assert digest_for(table, "k", "r/x:2") is None
    assert digest_for(table, "other", "r/x:1") is None


def test_an_empty_table_changes_no_chart_values():
    for chart_key in eks_versions.CHARTS:
        assert stack_images.pinned_values(chart_key, "1.35", table={}) == {}


def test_a_chart_without_a_digest_key_gets_tag_at_digest_in_its_tag():
    assert stack_images.pinned_values("metrics-server", "1.35", table_of("metrics-server")) == {
        "image": {"tag": f"v0.8.0@{DIGEST}"}
    }
    assert stack_images.pinned_values("cluster-autoscaler", "1.34", table_of("cluster-autoscaler-1.34")) == {
        "image": {"tag": f"{eks_versions.VERSIONS['1.34'].cluster_autoscaler}@{DIGEST}"}
    }
    # The 1.34 digest is not the 1.35 one.
    assert stack_images.pinned_values("cluster-autoscaler", "1.35", table_of("cluster-autoscaler-1.34")) == {}


def test_kube_prometheus_stack_gets_tag_and_digest_in_each_charts_own_spelling():
    keys = [image.key for image in CHART_IMAGES["kube-prometheus-stack"].images]
    values = stack_images.pinned_values("kube-prometheus-stack", "1.35", table_of(*keys))
    assert values["prometheus"]["prometheusSpec"]["image"] == {"tag": "v3.7.3", "sha": HEX}
    assert values["prometheusOperator"]["image"] == {"tag": "v0.86.2", "sha": HEX}
    assert values["prometheusOperator"]["prometheusConfigReloader"]["image"] == {"tag": "v0.86.2", "sha": HEX}
    assert values["prometheusOperator"]["admissionWebhooks"]["patch"]["image"]["sha"] == HEX
    assert values["grafana"] == {"image": {"tag": "12.3.0", "sha": HEX},
                                 "sidecar": {"image": {"tag": "1.30.10", "sha": HEX}}}  # fmt: skip
    assert values["kube-state-metrics"]["image"] == {"tag": "v2.17.0", "sha": DIGEST}  # with sha256:
    assert values["prometheus-node-exporter"]["image"] == {"tag": "v1.10.2", "digest": DIGEST}


def test_only_images_with_a_digest_are_pinned():
    values = stack_images.pinned_values(
        "kube-prometheus-stack", "1.35", table_of("kube-prometheus-stack/alertmanager")
    )
    assert values == {"alertmanager": {"alertmanagerSpec": {"image": {"tag": "v0.29.0", "sha": HEX}}}}


def test_every_digest_form_is_used_with_the_keys_it_needs():
    for chart in CHART_IMAGES.values():
        for image in chart.images:
            assert (image.digest_key is None) == (image.form is DigestForm.IN_TAG), image.key
            assert image.tag_key.endswith(".tag") and ":" in image.image


def test_merging_pins_keeps_the_releases_own_values():
    base = {"grafana": {"sidecar": {"dashboards": {"enabled": True}}}, "replicaCount": 2}
    pins = {"grafana": {"sidecar": {"image": {"tag": "1", "sha": HEX}}}}
    assert stack_images.merged(base, pins) == {
        "grafana": {"sidecar": {"dashboards": {"enabled": True}, "image": {"tag": "1", "sha": HEX}}},
        "replicaCount": 2,
    }
    assert base == {"grafana": {"sidecar": {"dashboards": {"enabled": True}}}, "replicaCount": 2}


def test_the_fetcher_runs_by_digest_once_known():
    assert stack_images.artifact_fetcher({}) == eks_versions.ARTIFACT_FETCHER_IMAGE
    pinned = stack_images.artifact_fetcher(table_of("artifact-fetcher"))
    assert pinned == f"{eks_versions.ARTIFACT_FETCHER_IMAGE}@{DIGEST}"


def test_one_warning_per_image_run_by_tag_naming_it_and_the_fix():
    everything = stack_images.running("1.35", model_pods=True)
    warnings = stack_images.unpinned_warnings("1.35", model_pods=True, table={})
    assert len(warnings) == len(everything)
    for image, warning in zip(everything, warnings, strict=True):
        assert image.image in warning and f"({image.key})" in warning
        assert "modelfleet images refresh" in warning
    without_models = stack_images.unpinned_warnings("1.35", model_pods=False, table={})
    assert not any(eks_versions.ARTIFACT_FETCHER_IMAGE in w for w in without_models)
    table = table_of(*(image.key for image in everything))
    assert stack_images.unpinned_warnings("1.35", model_pods=True, table=table) == []


def test_a_stale_digest_is_not_used_and_the_warning_says_so():
    table = {"metrics-server": resolved("registry.k8s.io/metrics-server/metrics-server:v0.7.2")}
    warnings = stack_images.unpinned_warnings("1.35", model_pods=False, table=table)
    (stale,) = [w for w in warnings if "metrics-server:v0.8.0" in w]
    assert "its digest is for registry.k8s.io/metrics-server/metrics-server:v0.7.2" in stale
    assert stack_images.pinned_values("metrics-server", "1.35", table) == {}


def test_the_document_round_trips_with_sorted_keys():
    table = {"b": Resolved("r/b:1"), "a": resolved("r/a:1")}
    document = image_digests.document(table)
    assert list(document["images"]) == ["a", "b"]
    assert parse(json.loads(json.dumps(document))) == table


def test_a_cluster_runs_the_charts_of_its_capacity_option_only():
    everyone = [
        key for key in eks_versions.CHARTS if not any(key in c for c in eks_versions.CAPACITY_CHARTS.values())
    ]
    assert stack_images.charts() == stack_images.charts("cluster-autoscaler")
    assert stack_images.charts("cluster-autoscaler") == [*everyone[:2], "cluster-autoscaler", *everyone[2:]]
    assert stack_images.charts("karpenter") == [*everyone, "karpenter-crd", "karpenter"]
    by_capacity = {
        capacity: {image.key for image in stack_images.running("1.35", model_pods=False, capacity=capacity)}
        for capacity in eks_versions.CAPACITY_CHARTS
    }
    assert (
        "karpenter" in by_capacity["karpenter"] and "cluster-autoscaler-1.35" not in by_capacity["karpenter"]
    )
    assert "cluster-autoscaler-1.35" in by_capacity["cluster-autoscaler"]
    assert "karpenter" not in by_capacity["cluster-autoscaler"]
    assert {image.key for image in stack_images.declared()} >= by_capacity["karpenter"] | by_capacity[
        "cluster-autoscaler"
    ]


def test_karpenters_controller_runs_by_its_charts_digest_until_the_table_pins_it():
    (controller,) = CHART_IMAGES["karpenter"].images
    assert (
        controller.image == f"public.ecr.aws/karpenter/controller:{eks_versions.CHARTS['karpenter'].version}"
    )
    assert image_digests.DIGEST.match(controller.chart_digest or "")
    # Not "by tag": the chart's own values carry the digest, so no warning and no values of ours.
    warnings = stack_images.unpinned_warnings("1.35", model_pods=False, capacity="karpenter", table={})
    assert not any("karpenter/controller" in w for w in warnings)
    assert stack_images.pinned_values("karpenter", "1.35", table={}) == {}
    # Once the table knows it, the table's digest is pinned, with the tag beside it.
    assert stack_images.pinned_values("karpenter", "1.35", table_of("karpenter")) == {
        "controller": {"image": {"tag": "1.14.1", "digest": DIGEST}}
    }
    assert stack_images.pinned_values("karpenter-crd", "1.35", table_of("karpenter")) == {}
