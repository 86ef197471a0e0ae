"""EksModelService: one parent for every resource of an EKS model, moved there without replacing any."""

from __future__ import annotations

import pytest

from infra.plan import urns

SERVICE = "modelfleet:eks:EksModelService"


@pytest.fixture(scope="module")
def prod(shipped_plans):
    return shipped_plans["prod"]


def test_every_per_model_resource_of_an_eks_model_sits_under_its_service(prod):
    service = prod.get(SERVICE, "platform-doc-embedder")  # deployed before the move
    below = {r.urn for r in prod.descendants(service.urn)}
    for resource in prod.custom_resources:
        if resource.tags.get("model") == "doc-embedder" or resource.name.startswith("platform-doc-embedder-"):
            assert resource.urn in below, f"{resource.type} {resource.name} is not under {service.name}"
    kinds = {r.type for r in prod.descendants(service.urn)}
    assert {"aws:lb/loadBalancer:LoadBalancer", "kubernetes:apps/v1:Deployment",
            "kubernetes:keda.sh/v1alpha1:ScaledObject"} <= kinds  # fmt: skip


def test_every_moved_resource_answers_to_its_former_urn(prod):
    """Each resource under the service still answers to the URN it had directly under Platform."""
    real = urns.engine_urns(prod.resources, prod.stack, prod.project)
    former = urns.former_urns(prod.resources, real)
    service = prod.get(SERVICE, "platform-doc-embedder")  # deployed before the move
    moved = prod.descendants(service.urn)
    assert moved
    for resource in moved:
        legacy = real[resource.urn].replace(f"${SERVICE}", "", 1)
        assert legacy != real[resource.urn]
        assert legacy in former[resource.urn], f"{resource.type} {resource.name} would be replaced"


def test_the_services_direct_children_carry_the_alias_to_the_platform(prod):
    service = prod.get(SERVICE, "platform-doc-embedder")  # deployed before the move
    for child in prod.children(service.urn):
        assert any("modelfleet:platform:Platform$" + child.type + "::" in a for a in child.aliases), (
            child.name
        )
