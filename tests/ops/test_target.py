"""The tools address exactly what the Pulumi program declares, from the stack file alone."""

from __future__ import annotations

from infra.ops.target import load_project, resolve
from tests.conftest import ROOT


def test_endpoint_variant_and_alarm_names_match_the_offline_plan(shipped_plans):
    target = resolve(load_project(ROOT), "prod", "fraud-scorer")
    plan = shipped_plans["prod"]
    endpoint = plan.get("aws-native:sagemaker:Endpoint", "platform-fraud-scorer-endpoint")
    assert endpoint.inputs["endpointName"] == target.endpoint_name == "modelfleet-prod-fraud-scorer"
    variants = plan.of_type("aws:sagemaker/endpointConfiguration:EndpointConfiguration")[0].inputs
    assert [v["variantName"] for v in variants["productionVariants"]] == list(target.variants)
    declared = {
        alarm.inputs["name"]
        for alarm in plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
        if alarm.name.startswith("platform-fraud-scorer-")
    }
    # Drift alarms watch the inputs, not the version: they page, but gate no rollout.
    drift = {name for name in declared if name.startswith("modelfleet-prod-fraud-scorer-drift-")}
    assert len(drift) == 2
    assert declared - drift == set(target.alarm_names) and len(declared - drift) == 11
