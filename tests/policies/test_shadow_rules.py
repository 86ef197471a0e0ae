"""Shadow variants under the pack: counted and priced like production, never held to its serving rules."""

from __future__ import annotations

import copy

from policies.rules import BY_NAME
from tests.policies.conftest import resource, run_resource, run_stack
from tests.policies.test_stack_rules import _sagemaker_stack

CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
SHADOW = {
    "variantName": "shadow",
    "instanceType": "ml.g5.xlarge",
    "initialInstanceCount": 1,
    "initialVariantWeight": 50,
}


def _with_shadow(**options):
    stack = _sagemaker_stack(**options)
    stack[0].props["shadowProductionVariants"] = [dict(SHADOW)]
    return stack


def _guarded(stack, rollback: list[str]):
    """The stack's endpoint with a guardrail on ``rollback``, and an alarm per variant and metric."""
    endpoint = stack[1]
    endpoint.props["deploymentConfig"] = {
        "blueGreenUpdatePolicy": {"trafficRoutingConfiguration": {"type": "CANARY"}},
        "autoRollbackConfiguration": {"alarms": [{"alarmName": name} for name in rollback]},
    }
    alarms = []
    for variant in ("stable", "shadow"):
        alarms.append(
            resource(
                "aws:cloudwatch/metricAlarm:MetricAlarm",
                {
                    "name": f"{variant}-p99",
                    "dimensions": {"EndpointName": "mf-fraud", "VariantName": variant},
                },
                f"{variant}-p99",
            )
        )
        rate = {
            "metric": {
                "metricName": "Invocations",
                "dimensions": {"EndpointName": "mf-fraud", "VariantName": variant},
            }
        }
        alarms.append(
            resource(
                "aws:cloudwatch/metricAlarm:MetricAlarm",
                {"name": f"{variant}-5xx", "metricQueries": [rate]},
                f"{variant}-5xx",
            )
        )
    return stack + alarms


def test_a_shadow_on_one_instance_is_not_held_to_the_min_instances_rule():
    props = copy.deepcopy(_with_shadow()[0].props)
    assert run_resource(BY_NAME["sagemaker-variant-min-instances"], CONFIG, props) == []
    props["productionVariants"][0]["initialInstanceCount"] = 1
    [message] = run_resource(BY_NAME["sagemaker-variant-min-instances"], CONFIG, props)
    assert "variant stable" in message


def test_a_shadow_needs_no_scaling_target():
    assert run_stack(BY_NAME["sagemaker-variant-autoscaling"], _with_shadow()) == []


def test_the_gpu_quota_counts_the_shadows_instances():
    quota = {"quotas": {"risk": 5}}
    assert run_stack(BY_NAME["team-gpu-quota"], _with_shadow(max_capacity=4), quota) == []
    [message] = run_stack(BY_NAME["team-gpu-quota"], _with_shadow(max_capacity=5), quota)
    assert "team risk can scale to 6 GPUs" in message


def test_a_shadow_is_not_a_rollback_alarm_source():
    rule = BY_NAME["sagemaker-deployment-guardrails"]
    assert run_stack(rule, _guarded(_with_shadow(), ["stable-p99", "stable-5xx"])) == []
    found = run_stack(rule, _guarded(_with_shadow(), ["stable-p99", "shadow-p99", "shadow-5xx"]))
    assert len(found) == 2 and all("watches shadow variant shadow" in m for m in found), found


def test_without_a_shadow_a_variant_named_shadow_is_nothing_special():
    assert (
        run_stack(BY_NAME["sagemaker-deployment-guardrails"], _guarded(_sagemaker_stack(), ["shadow-p99"]))
        == []
    )
