"""ModelDashboard under Pulumi's mocks: one CloudWatch dashboard whose body CloudWatch can render."""

from __future__ import annotations

import json

import pytest

from infra.components.observability.dashboards import ModelDashboard, ModelDashboardArgs
from infra.specs.alarm_specs import INSTANCE_NAMESPACE, INVOCATION_NAMESPACE
from tests.components.support import Recorded, outside, record_component

COMPONENT = "modelfleet:observability:ModelDashboard"
DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"
ENDPOINT = "modelfleet-test-fraud-scorer"
# SageMaker's endpoint metrics (AWS/SageMaker) and instance metrics (/aws/sagemaker/Endpoints).
KNOWN_METRICS = {"Invocations", "Invocation4XXErrors", "Invocation5XXErrors", "ModelLatency", "CPUUtilization",
                 "DiskUtilization", "GPUUtilization", "GPUMemoryUtilization"}  # fmt: skip


def build(**changes) -> Recorded:
    fields = {
        "dashboard_name": "modelfleet-test-fraud-scorer",
        "region": "eu-west-1",
        "endpoint_name": ENDPOINT,
        "variants": ["stable", "canary"],
        "p99_slo_ms": 80,
        "gpus": False,
        "instances": True,
        **changes,
    }
    return record_component(lambda: ModelDashboard("fraud-dashboard", ModelDashboardArgs(**fields)))


def body(recorded: Recorded) -> dict:
    return json.loads(recorded.plan.get(DASHBOARD, "fraud-dashboard-dashboard").inputs["dashboardBody"])


def metrics(widget: dict) -> set[str]:
    return {m[1] for m in widget["properties"]["metrics"]}


@pytest.fixture(scope="module")
def recorded() -> Recorded:
    return build()


def test_one_dashboard_child_of_the_component(recorded):
    root = recorded.component(COMPONENT)
    (dashboard,) = recorded.plan.of_type(DASHBOARD)
    assert dashboard.parent == root.urn
    assert outside(recorded.plan, root) == []
    assert dashboard.inputs["dashboardName"] == "modelfleet-test-fraud-scorer"


def test_every_widget_is_a_metric_widget_on_the_grid(recorded):
    widgets = body(recorded)["widgets"]
    assert len(widgets) == 6
    for widget in widgets:
        assert widget["type"] == "metric"
        assert widget["x"] + widget["width"] <= 24  # the dashboard grid is 24 columns wide
        assert widget["properties"]["region"] == "eu-west-1"
        assert widget["properties"]["period"] == 60
    assert len({(w["x"], w["y"]) for w in widgets}) == len(widgets)  # no two widgets overlap at a corner


def test_every_series_names_the_endpoint_and_one_variant(recorded):
    for widget in body(recorded)["widgets"]:
        for series in widget["properties"]["metrics"]:
            namespace, metric, *dimensions, options = series
            assert namespace in (INVOCATION_NAMESPACE, INSTANCE_NAMESPACE)
            assert metric in KNOWN_METRICS
            assert dimensions[:3] == ["EndpointName", ENDPOINT, "VariantName"]
            assert dimensions[3] in ("stable", "canary")
            assert options["label"] == dimensions[3]
            assert "stat" in options


def test_latency_widget_marks_the_slo_in_microseconds(recorded):
    latency = next(w for w in body(recorded)["widgets"] if "latency" in w["properties"]["title"].lower())
    assert latency["properties"]["annotations"] == {"horizontal": [{"label": "p99 SLO", "value": 80_000}]}
    assert {s[-1]["stat"] for s in latency["properties"]["metrics"]} == {"p50", "p99"}


def test_gpu_series_only_on_gpu_instances(recorded):
    cpu_only = set().union(*(metrics(w) for w in body(recorded)["widgets"]))
    assert "GPUUtilization" not in cpu_only and "CPUUtilization" in cpu_only
    with_gpus = set().union(*(metrics(w) for w in body(build(gpus=True))["widgets"]))
    assert {"GPUUtilization", "GPUMemoryUtilization"} <= with_gpus


def test_serverless_dashboards_have_no_instance_widgets():
    widgets = body(build(instances=False, variants=["stable"]))["widgets"]
    assert len(widgets) == 3
    assert set().union(*(metrics(w) for w in widgets)) == {
        "Invocations",
        "Invocation4XXErrors",
        "Invocation5XXErrors",
        "ModelLatency",
    }


def test_registers_the_console_url(recorded):
    assert recorded.outputs_of(recorded.component(COMPONENT)) == {
        "url": "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1"
        "#dashboards:name=modelfleet-test-fraud-scorer"
    }


def test_a_model_with_drift_gets_a_drift_row_below_its_serving_widgets():
    from infra.components.observability.dashboards import DriftWidgets, dashboard_body
    from infra.contracts import drift

    plain = dashboard_body("eu-west-1", "modelfleet-test-fraud", ["stable"], 100, False, True)
    body = dashboard_body(
        "eu-west-1", "modelfleet-test-fraud", ["stable"], 100, False, True,
        DriftWidgets("fraud-scorer", ["amount", "hour"], 3600),
    )  # fmt: skip
    added = body["widgets"][len(plain["widgets"]) :]
    assert body["widgets"][: len(plain["widgets"])] == plain["widgets"]
    assert len(added) == 3
    assert min(w["y"] for w in added) >= max(w["y"] + w["height"] for w in plain["widgets"])
    assert {w["properties"]["period"] for w in added} == {3600}
    series = [m for w in added for m in w["properties"]["metrics"]]
    assert all(m[0] == drift.NAMESPACE and m[2:4] == [drift.DIMENSION_MODEL, "fraud-scorer"] for m in series)
    psi = [m for m in series if m[1] == drift.METRIC_FEATURE_PSI]
    assert [m[4:6] for m in psi] == [[drift.DIMENSION_FEATURE, "amount"], [drift.DIMENSION_FEATURE, "hour"]]
    assert {m[1] for m in series} == {
        drift.METRIC_DRIFTED_FEATURES,
        drift.METRIC_DRIFT_SHARE,
        drift.METRIC_ROWS,
        drift.METRIC_FEATURE_PSI,
    }
