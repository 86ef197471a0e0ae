"""A SageMaker endpoint with a shadow variant under Pulumi's mocks: its Model, its
ShadowProductionVariants entry, alarms that notify but never roll back, and its dashboard series."""

from __future__ import annotations

import json

import pytest

from tests.components.sagemaker.test_sagemaker_model_endpoint import (
    ALARM,
    CONFIG,
    ENDPOINT,
    MODEL,
    TARGET,
    build,
)

STABLE = {"model_data": "s3://artifacts/fraud/v1/model.tar.gz", "instance_count": 2}
SHADOW = {"model_data": "s3://artifacts/fraud/v3/model.tar.gz", "instance_count": 1, "weight": 30}
DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"


@pytest.fixture(scope="module")
def plan():
    return build(variants={"stable": STABLE, "shadow": SHADOW}, data_capture={"sampling_percent": 10})


def test_the_shadow_gets_a_model_of_its_own(plan):
    models = {m.name: m.inputs for m in plan.of_type(MODEL)}
    assert set(models) == {"fraud-stable", "fraud-shadow"}
    assert models["fraud-shadow"]["primaryContainer"]["modelDataUrl"] == SHADOW["model_data"]
    assert models["fraud-shadow"]["enableNetworkIsolation"] is True


def test_the_config_holds_one_production_variant_and_the_shadow_with_its_share_and_size(plan):
    config = plan.get(CONFIG, "fraud-config").inputs
    assert [v["variantName"] for v in config["productionVariants"]] == ["stable"]
    (shadow,) = config["shadowProductionVariants"]
    assert shadow["variantName"] == "shadow"
    assert shadow["instanceType"] == "ml.c5.xlarge"
    assert shadow["initialInstanceCount"] == 1
    # Copied share = shadow weight / production weight: 30 of 100.
    assert shadow["initialVariantWeight"] == 30
    assert config["productionVariants"][0]["initialVariantWeight"] == 100


def test_the_shadows_alarms_notify_and_are_not_rollback_alarms(plan):
    alarms = {a.inputs["name"]: a.inputs for a in plan.of_type(ALARM)}
    shadow = {n for n in alarms if "-shadow-" in n}
    assert shadow == {
        "modelfleet-prod-fraud-scorer-shadow-p99-latency",
        "modelfleet-prod-fraud-scorer-shadow-5xx-rate",
    }
    for name in shadow:
        assert alarms[name]["alarmActions"] == ["arn:aws:sns:eu-west-1:111122223333:alarms"]
    latency = alarms["modelfleet-prod-fraud-scorer-shadow-p99-latency"]
    assert latency["dimensions"]["VariantName"] == "shadow"
    deployment = plan.get(ENDPOINT, "fraud-endpoint").inputs["deploymentConfig"]
    rollback = {a["alarmName"] for a in deployment["autoRollbackConfiguration"]["alarms"]}
    assert rollback == {
        "modelfleet-prod-fraud-scorer-stable-p99-latency",
        "modelfleet-prod-fraud-scorer-stable-5xx-rate",
    }


def test_the_shadow_has_no_scaling_target(plan):
    targets = [t.inputs["resourceId"] for t in plan.of_type(TARGET)]
    assert targets and all(t.endswith("/variant/stable") for t in targets)


def test_the_dashboard_draws_the_shadow_beside_production(plan):
    (dashboard,) = plan.of_type(DASHBOARD)
    body = json.loads(dashboard.inputs["dashboardBody"])
    latency = next(w for w in body["widgets"] if w["properties"]["title"].startswith("Model latency"))
    labels = {series[-1]["label"] for series in latency["properties"]["metrics"]}
    assert labels == {"stable", "shadow"}


def test_without_a_shadow_the_config_declares_none():
    plain = build(variants={"stable": {**STABLE, "weight": 100}})
    assert "shadowProductionVariants" not in plain.get(CONFIG, "fraud-config").inputs
