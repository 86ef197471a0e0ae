"""prod's support-summarizer runs a shadow: what the plan declares and prices, and what
``promote --from-shadow``'s edit changes in the stack diff."""

from __future__ import annotations

import pytest

from infra.ops import shadow
from infra.plan import plan_stack
from infra.plan.cost import PriceTable, estimate
from infra.plan.diff import resource_changes
from infra.stackfiles.edit import StackDocument
from infra.stackfiles.read import read_project
from tests.conftest import ROOT

CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
ENDPOINT = "aws-native:sagemaker:Endpoint"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TARGET = "aws:appautoscaling/target:Target"
PREFIX = "platform-support-summarizer"


@pytest.fixture(scope="module")
def prod(shipped_plans):
    return shipped_plans["prod"]


def test_the_configuration_holds_one_production_variant_and_the_shadow(prod):
    config = prod.get(CONFIG, f"{PREFIX}-config").inputs
    assert [v["variantName"] for v in config["productionVariants"]] == ["stable"]
    [copy] = config["shadowProductionVariants"]
    assert (copy["variantName"], copy["instanceType"], copy["initialInstanceCount"]) == (
        "shadow",
        "ml.g5.2xlarge",
        1,
    )
    assert copy["initialVariantWeight"] == 50  # half the requests, against stable's 100
    model = prod.get("aws:sagemaker/model:Model", f"{PREFIX}-shadow").inputs
    assert model["primaryContainer"]["modelDataUrl"].endswith("support-summarizer/v8/model.tar.gz")


def test_the_shadows_alarms_notify_but_do_not_roll_back(prod):
    names = {a.inputs["name"] for a in prod.of_type(ALARM)}
    shadow_alarms = {n for n in names if n.startswith("modelfleet-prod-support-summarizer-shadow-")}
    assert shadow_alarms == {
        "modelfleet-prod-support-summarizer-shadow-p99-latency",
        "modelfleet-prod-support-summarizer-shadow-5xx-rate",
    }
    endpoint = prod.get(ENDPOINT, f"{PREFIX}-endpoint").inputs
    rollback = {a["alarmName"] for a in endpoint["deploymentConfig"]["autoRollbackConfiguration"]["alarms"]}
    assert rollback and not rollback & shadow_alarms


def test_the_shadow_is_priced_like_a_production_variant(prod):
    report = estimate(prod, PriceTable.for_region("eu-west-1"))
    [line] = [line for line in report.lines if line.name == f"{PREFIX}-config"]
    assert "shadow: 1-1 x ml.g5.2xlarge" in line.basis and line.known


def test_promote_from_shadow_shows_in_the_diff_as_a_new_configuration(tmp_path, prod):
    project = read_project(ROOT)
    document = StackDocument.load(project, "prod")
    at = ("modelfleet:models", document.index_of("modelfleet:models", "support-summarizer"), "variants")
    shadow.apply(document, shadow.from_shadow_edit(document.get(at), at))
    edited = tmp_path / "Pulumi.prod.yaml"
    edited.write_text(document.render())
    changes = {c.name: c for c in resource_changes(prod, plan_stack("prod", root=ROOT, stack_file=edited))}

    config = changes[f"{PREFIX}-config"]
    assert config.action == "replace"
    paths = {p.path: (p.old, p.new) for p in config.properties}
    assert set(paths) == {"productionVariants", "shadowProductionVariants"}
    before, after = paths["productionVariants"]
    assert [v["variantName"] for v in before] == ["stable"]
    assert [(v["variantName"], v["initialVariantWeight"]) for v in after] == [("stable", 100), ("canary", 0)]
    assert paths["shadowProductionVariants"][1] is None
    assert changes[f"{PREFIX}-shadow"].action == "remove"
    assert changes[f"{PREFIX}-canary"].action == "add"
    assert changes[f"{PREFIX}-endpoint"].action == "update"
    assert changes[f"{PREFIX}-dashboard-dashboard"].action == "update"  # canary series for shadow series
    alarms = {n: c.action for n, c in changes.items() if c.type == ALARM}
    assert {n for n, a in alarms.items() if a == "remove"} == {
        f"{PREFIX}-alarms-shadow-p99-latency",
        f"{PREFIX}-alarms-shadow-5xx-rate",
    }
    added = {n for n, a in alarms.items() if a == "add"}
    assert {f"{PREFIX}-alarms-canary-p99-latency", f"{PREFIX}-alarms-canary-5xx-rate"} <= added
    # A canary at weight 0 takes no scaling target until modelfleet rollout moves it.
    assert not any(c.type == TARGET for c in changes.values())
    untouched = {n for n, c in changes.items() if not n.startswith(PREFIX)}
    assert not untouched, untouched
