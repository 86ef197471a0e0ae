"""Kubernetes objects as manifests (no program, no mocks)."""

from __future__ import annotations

from ruamel.yaml import YAML

from infra.plan.k8s_manifests import manifest, manifests_yaml
from infra.plan.model import PlannedResource

SERVICE_ACCOUNT = {
    "apiVersion": "v1",
    "kind": "ServiceAccount",
    "metadata": {"name": "model-server", "namespace": "m"},
}


def resource(name: str, inputs: dict) -> PlannedResource:
    urn = f"urn:pulumi:test::modelfleet::kubernetes:core/v1:{inputs['kind']}::{name}"
    type_token = f"kubernetes:core/v1:{inputs['kind']}"
    return PlannedResource(urn=urn, type=type_token, name=name, parent=None, custom=True, inputs=inputs)


def test_a_manifest_is_the_object_as_declared_header_first():
    data = {"kind": "ConfigMap", "data": {"a": "1"}, "metadata": {"name": "c"}, "apiVersion": "v1"}
    assert list(manifest(resource("config", data))) == ["apiVersion", "kind", "metadata", "data"]
    assert manifest(resource("config", data)) == data


def test_an_unnamed_object_takes_its_resource_name_and_the_plan_is_not_changed():
    declared = {"apiVersion": "v1", "kind": "Namespace", "metadata": {}}
    ns = resource("platform-monitoring", declared)
    assert manifest(ns)["metadata"] == {"name": "platform-monitoring"}
    assert ns.inputs["metadata"] == {}


def test_the_stream_holds_one_document_per_object_in_order():
    objects = [resource("sa", SERVICE_ACCOUNT), resource("ns", {"apiVersion": "v1", "kind": "Namespace"})]
    documents = list(YAML(typ="safe", pure=True).load_all(manifests_yaml(objects)))
    assert [d["kind"] for d in documents] == ["ServiceAccount", "Namespace"]
    assert documents[0] == SERVICE_ACCOUNT
