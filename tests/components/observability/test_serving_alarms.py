"""ServingAlarms under Pulumi's mocks: one CloudWatch alarm per spec, in a shape CloudWatch accepts."""

from __future__ import annotations

import pulumi
import pytest

from infra.components.observability.serving_alarms import ServingAlarms, ServingAlarmsArgs
from infra.contracts import instances
from infra.settings.catalog import parse_model
from infra.specs import alarm_specs
from tests.components.support import TAGS, Recorded, by_name, known, outside, record_component
from tests.settings.test_catalog import model

COMPONENT = "modelfleet:observability:ServingAlarms"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "arn:aws:sns:eu-west-1:111122223333:modelfleet-test-alarms"
ENDPOINT = "modelfleet-test-fraud-scorer"
SETTINGS = parse_model(
    model(instance_type="ml.g5.xlarge", alarms={"no_invocations_minutes": 30}), region="eu-west-1"
)
SPECS = alarm_specs.serving_alarms("test", SETTINGS, ENDPOINT, instances.lookup("ml.g5.xlarge"))


def build(specs=SPECS, dimensions=None) -> tuple[Recorded, list[str]]:
    rollback: list[str] = []

    def program():
        alarms = ServingAlarms(
            "fraud-alarms",
            ServingAlarmsArgs(
                dimensions=dimensions
                or {v: {"EndpointName": ENDPOINT, "VariantName": v} for v in ("stable", "canary")},
                specs=specs,
                topic_arn=known(TOPIC),
                tags=TAGS,
            ),
        )
        pulumi.Output.all(*alarms.rollback_alarm_names).apply(rollback.extend)

    return record_component(program), rollback


@pytest.fixture(scope="module")
def built() -> tuple[Recorded, list[str]]:
    return build()


@pytest.fixture(scope="module")
def alarms(built) -> dict[str, dict]:
    return {a.inputs["name"]: a.inputs for a in built[0].plan.of_type(ALARM)}


def test_one_alarm_per_spec_every_one_a_child_of_the_component(built):
    recorded, _ = built
    root = recorded.component(COMPONENT)
    children = recorded.plan.children(root.urn)
    assert sorted(c.name for c in children) == sorted(f"fraud-alarms-{s.key}" for s in SPECS)
    assert {c.type for c in children} == {ALARM}
    assert outside(recorded.plan, root) == []
    assert len(SPECS) == 2 * 7 + 1  # per variant: latency, 5xx, 4xx, cpu, disk, gpu, gpu memory; + silence


def test_alarm_names_and_settings_follow_the_specs(alarms):
    for spec in SPECS:
        alarm = alarms[spec.name]
        assert alarm["threshold"] == spec.threshold
        assert alarm["comparisonOperator"] == spec.comparison
        assert alarm["evaluationPeriods"] == spec.evaluation_periods
        assert alarm["datapointsToAlarm"] == spec.datapoints_to_alarm
        assert alarm["treatMissingData"] == spec.treat_missing_data
        assert alarm["alarmDescription"] == spec.description
        # CloudWatch refuses M > N ("datapoints to alarm" out of "evaluation periods").
        assert 1 <= alarm["datapointsToAlarm"] <= alarm["evaluationPeriods"]


def test_every_alarm_notifies_the_topic_on_alarm_and_on_recovery(alarms):
    for alarm in alarms.values():
        assert alarm["alarmActions"] == [TOPIC]
        assert alarm["okActions"] == [TOPIC]
        assert alarm["tags"] == TAGS


def test_single_metric_alarms_use_a_statistic_or_a_percentile_never_both(alarms):
    single = [s for s in SPECS if not s.rate_of]
    for spec in single:
        alarm = alarms[spec.name]
        assert alarm["namespace"] == spec.namespace
        assert alarm["metricName"] == spec.metric_name
        assert alarm["period"] == spec.period_seconds
        assert ("statistic" in alarm) != ("extendedStatistic" in alarm)
        assert "metricQueries" not in alarm
    latency = alarms["modelfleet-test-fraud-scorer-stable-p99-latency"]
    assert (latency["metricName"], latency["extendedStatistic"]) == ("ModelLatency", "p99")
    assert latency["threshold"] == 100 * 1000  # microseconds, as SageMaker reports ModelLatency


def test_rate_alarms_are_metric_math_with_exactly_one_returned_series(alarms):
    rates = [s for s in SPECS if s.rate_of]
    assert {s.key for s in rates} == {
        f"{v}-{k}" for v in ("stable", "canary") for k in ("5xx-rate", "4xx-rate")
    }
    for spec in rates:
        alarm = alarms[spec.name]
        # CloudWatch rejects an alarm with both a metric and metric queries.
        assert not {"metricName", "namespace", "statistic", "period"} & set(alarm)
        queries = {q["id"]: q for q in alarm["metricQueries"]}
        assert [q["id"] for q in alarm["metricQueries"] if q["returnData"]] == ["rate"]
        assert queries["rate"]["expression"] == "IF(invocations > 0, 100 * errors / invocations, 0)"
        errors, invocations = spec.rate_of
        assert queries["errors"]["metric"]["metricName"] == errors
        assert queries["invocations"]["metric"]["metricName"] == invocations
        for query in (queries["errors"], queries["invocations"]):
            assert query["metric"]["stat"] == "Sum"
            assert query["metric"]["namespace"] == "AWS/SageMaker"
            assert query["metric"]["dimensions"] == {"EndpointName": ENDPOINT, "VariantName": spec.variant}


def test_each_alarm_watches_its_own_variant(alarms):
    for spec in SPECS:
        alarm = alarms[spec.name]
        dimensions = alarm.get("dimensions") or alarm["metricQueries"][0]["metric"]["dimensions"]
        assert dimensions == {"EndpointName": ENDPOINT, "VariantName": spec.variant}


def test_silence_alarm_breaches_on_missing_data(alarms):
    silence = alarms["modelfleet-test-fraud-scorer-stable-no-invocations"]
    assert (silence["comparisonOperator"], silence["treatMissingData"]) == ("LessThanThreshold", "breaching")
    assert silence["period"] == 300 and silence["evaluationPeriods"] == 6


def test_dimensions_may_be_outputs_of_the_watched_resources():
    lb, groups = (
        "app/mf-abc/0123456789abcdef",
        {"stable": "targetgroup/mf-s/1", "canary": "targetgroup/mf-c/2"},
    )
    specs = alarm_specs.load_balancer_alarms("test", SETTINGS, "modelfleet-test-fraud-scorer")
    dimensions = {v: {"LoadBalancer": known(lb), "TargetGroup": known(g)} for v, g in groups.items()}
    recorded, _ = build(specs, dimensions)
    alarms = {a.inputs["name"]: a.inputs for a in recorded.plan.of_type(ALARM)}
    assert len(alarms) == 8
    for spec in specs:
        alarm = alarms[spec.name]
        found = alarm.get("dimensions") or alarm["metricQueries"][0]["metric"]["dimensions"]
        assert found == {"LoadBalancer": lb, "TargetGroup": groups[spec.variant]}
        assert (
            alarm.get("namespace") or alarm["metricQueries"][0]["metric"]["namespace"]
        ) == "AWS/ApplicationELB"


def test_rollback_alarms_are_the_latency_and_5xx_ones(built):
    _, rollback = built
    assert sorted(rollback) == sorted(
        f"modelfleet-test-fraud-scorer-{v}-{k}"
        for v in ("stable", "canary")
        for k in ("p99-latency", "5xx-rate")
    )


def test_registers_every_alarm_name_in_spec_order(built):
    recorded, _ = built
    registered = recorded.outputs_of(recorded.component(COMPONENT))
    assert registered == {"alarm_names": [s.name for s in SPECS]}
    assert set(registered["alarm_names"]) == {
        a.inputs["name"] for a in by_name(recorded.plan, ALARM).values()
    }
