"""Which model a planned resource belongs to, and which component group it sits in (pure)."""

from __future__ import annotations

from infra.plan.model import PlannedResource
from infra.plan.owners import PLATFORM, STACK, component_groups, model_owners

ROOT = "urn:root"


def _r(urn: str, parent: str | None, *, custom: bool = True, model: str | None = None) -> PlannedResource:
    tags = {"model": model} if model else {}
    return PlannedResource(urn, "t", urn.removeprefix("urn:"), parent, custom, {"tags": tags})


RESOURCES = [
    _r(ROOT, None, custom=False),
    _r("urn:fraud", ROOT, custom=False),
    _r("urn:fraud-config", "urn:fraud", model="fraud"),
    _r("urn:fraud-alarms", "urn:fraud", custom=False),
    _r("urn:fraud-alarm", "urn:fraud-alarms"),  # untagged, two levels below the model's component
    _r("urn:ranker", ROOT, custom=False),
    _r("urn:ranker-endpoint", "urn:ranker", model="ranker"),
    _r("urn:ranker-shared", "urn:ranker", model="fraud"),  # a component holding two models
    _r("urn:ranker-untagged", "urn:ranker"),
    _r("urn:network", ROOT, custom=False),
    _r("urn:vpc", "urn:network"),
    _r("urn:provider", ROOT),
]


def test_untagged_resources_take_the_single_model_of_their_component():
    owners = model_owners(RESOURCES)
    assert owners["urn:fraud-alarm"] == owners["urn:fraud-alarms"] == "fraud"
    assert owners["urn:fraud-config"] == "fraud"


def test_shared_components_and_the_root_belong_to_the_platform():
    owners = model_owners(RESOURCES)
    assert owners["urn:ranker-untagged"] == PLATFORM  # its component holds two models
    assert owners["urn:ranker-endpoint"] == "ranker"  # a tag always wins
    assert owners["urn:vpc"] == owners["urn:provider"] == owners[ROOT] == PLATFORM


def test_a_single_model_stack_does_not_claim_the_platform():
    only_fraud = [r for r in RESOURCES if "ranker" not in r.urn]
    assert model_owners(only_fraud)["urn:vpc"] == PLATFORM


def test_component_groups_are_the_components_under_the_root():
    groups = component_groups(RESOURCES)
    assert groups["urn:fraud-alarm"] == groups["urn:fraud-config"] == "fraud"
    assert groups["urn:vpc"] == "network"
    assert groups["urn:provider"] == STACK


def test_a_shared_endpoints_components_belong_to_their_models_by_aws_natives_tag_list():
    """aws-native tags are a list of {key, value}; the shared endpoint itself holds two models."""

    def native(urn: str, parent: str, model: str | None) -> PlannedResource:
        tags = [{"key": "team", "value": "cx"}] + ([{"key": "model", "value": model}] if model else [])
        return PlannedResource(urn, "t", urn, parent, True, {"tags": tags})

    resources = [
        _r(ROOT, None, custom=False),
        _r("urn:shared", ROOT, custom=False),
        native("urn:shared-config", "urn:shared", None),
        _r("urn:llm", "urn:shared", custom=False),
        native("urn:llm-component", "urn:llm", "llm"),
        _r("urn:llm-policy", "urn:llm"),  # untagged: its component holds one model
        _r("urn:router", "urn:shared", custom=False),
        native("urn:router-component", "urn:router", "router"),
    ]
    owners = model_owners(resources)
    assert owners["urn:llm-component"] == owners["urn:llm-policy"] == "llm"
    assert owners["urn:router-component"] == "router"
    assert owners["urn:shared-config"] == PLATFORM
