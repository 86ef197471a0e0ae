"""EndpointAutoscaling under Pulumi's mocks: targets, target tracking and off-hours per variant."""

from __future__ import annotations

import pytest

from infra.components.sagemaker.endpoint_autoscaling import (
    CONCURRENCY_METRIC,
    DIMENSION,
    INVOCATIONS_METRIC,
    EndpointAutoscaling,
    EndpointAutoscalingArgs,
)
from infra.specs.sagemaker_specs import ScalingPolicy, VariantScaling
from infra.specs.schedules import OffHoursSchedule
from tests.components.support import TAGS, Recorded, by_name, known, outside, record_component

COMPONENT = "modelfleet:sagemaker:EndpointAutoscaling"
TARGET = "aws:appautoscaling/target:Target"
POLICY = "aws:appautoscaling/policy:Policy"
ACTION = "aws:appautoscaling/scheduledAction:ScheduledAction"
ENDPOINT = "modelfleet-test-fraud-scorer"
OFF_HOURS = OffHoursSchedule("cron(0 20 ? * MON-FRI *)", "cron(0 8 ? * MON-FRI *)", "Europe/Dublin")


def build(**changes) -> Recorded:
    policy = {
        "variants": (VariantScaling("stable", 2, 6), VariantScaling("canary", 1, 6)),
        "invocations_per_instance_per_minute": 500,
        "scale_in_cooldown_seconds": 300,
        "scale_out_cooldown_seconds": 60,
        **changes,
    }
    return record_component(
        lambda: EndpointAutoscaling(
            "fraud-autoscaling",
            EndpointAutoscalingArgs(
                # An Output, as the component gets the endpoint's name: targets must wait for the endpoint.
                endpoint_name=known(ENDPOINT),
                policy=ScalingPolicy(**policy),
                tags=TAGS,
            ),
        )
    )


def resource_id(variant: str) -> str:
    return f"endpoint/{ENDPOINT}/variant/{variant}"


@pytest.fixture(scope="module")
def recorded() -> Recorded:
    return build()


@pytest.fixture(scope="module")
def full() -> Recorded:
    return build(concurrency_target=4.0, off_hours=OFF_HOURS, off_hours_instances=1)


def test_one_target_and_one_policy_per_variant_all_children(recorded):
    plan, root = recorded.plan, recorded.component(COMPONENT)
    assert sorted((r.type, r.name) for r in plan.children(root.urn)) == [
        (POLICY, "fraud-autoscaling-canary-invocations"),
        (POLICY, "fraud-autoscaling-stable-invocations"),
        (TARGET, "fraud-autoscaling-canary"),
        (TARGET, "fraud-autoscaling-stable"),
    ]
    assert outside(plan, root) == []


def test_targets_name_each_variant_of_the_endpoint_with_its_bounds(recorded):
    targets = by_name(recorded.plan, TARGET)
    for variant, bounds in {"stable": (2, 6), "canary": (1, 6)}.items():
        target = targets[f"fraud-autoscaling-{variant}"].inputs
        assert target["serviceNamespace"] == "sagemaker"
        assert target["scalableDimension"] == DIMENSION == "sagemaker:variant:DesiredInstanceCount"
        assert target["resourceId"] == resource_id(variant)
        assert (target["minCapacity"], target["maxCapacity"]) == bounds
        assert target["minCapacity"] <= target["maxCapacity"]
        assert target["tags"] == TAGS


def test_policies_track_invocations_per_instance_explicitly(recorded):
    for variant in ("stable", "canary"):
        policy = recorded.plan.get(POLICY, f"fraud-autoscaling-{variant}-invocations").inputs
        assert policy["policyType"] == "TargetTrackingScaling"  # the provider's default is StepScaling
        assert policy["resourceId"] == resource_id(variant)
        assert policy["serviceNamespace"] == "sagemaker"
        assert policy["scalableDimension"] == DIMENSION
        assert policy["targetTrackingScalingPolicyConfiguration"] == {
            "targetValue": 500,
            "predefinedMetricSpecification": {"predefinedMetricType": INVOCATIONS_METRIC},
            "scaleInCooldown": 300,
            "scaleOutCooldown": 60,
        }


def test_policies_and_actions_wait_for_their_target(full):
    """Application Auto Scaling refuses a policy or schedule for a target not yet registered."""
    targets = by_name(full.plan, TARGET)
    for resource in [*full.plan.of_type(POLICY), *full.plan.of_type(ACTION)]:
        variant = "stable" if "-stable-" in resource.name else "canary"
        assert targets[f"fraud-autoscaling-{variant}"].urn in resource.depends_on, resource.name


def test_a_concurrency_target_adds_a_second_tracking_policy(full):
    policies = by_name(full.plan, POLICY)
    assert len(policies) == 4
    for variant in ("stable", "canary"):
        tracking = policies[f"fraud-autoscaling-{variant}-concurrency"].inputs[
            "targetTrackingScalingPolicyConfiguration"
        ]
        assert tracking["predefinedMetricSpecification"] == {"predefinedMetricType": CONCURRENCY_METRIC}
        assert tracking["targetValue"] == 4


def test_off_hours_lower_both_bounds_and_working_hours_restore_them(full):
    actions = {a.name: a.inputs for a in full.plan.of_type(ACTION)}
    assert len(actions) == 4
    stable_off = actions["fraud-autoscaling-stable-off-hours"]
    assert stable_off["schedule"] == "cron(0 20 ? * MON-FRI *)"
    assert stable_off["timezone"] == "Europe/Dublin"
    assert stable_off["scalableTargetAction"] == {"minCapacity": 1, "maxCapacity": 1}
    assert stable_off["resourceId"] == resource_id("stable")
    stable_on = actions["fraud-autoscaling-stable-working-hours"]
    assert stable_on["schedule"] == "cron(0 8 ? * MON-FRI *)"
    assert stable_on["scalableTargetAction"] == {"minCapacity": 2, "maxCapacity": 6}
    assert actions["fraud-autoscaling-canary-working-hours"]["scalableTargetAction"] == {
        "minCapacity": 1,
        "maxCapacity": 6,
    }


def test_off_hours_capacity_never_exceeds_the_variants_maximum():
    recorded = build(variants=(VariantScaling("stable", 1, 2),), off_hours=OFF_HOURS, off_hours_instances=5)
    action = recorded.plan.get(ACTION, "fraud-autoscaling-stable-off-hours").inputs
    assert action["scalableTargetAction"] == {"minCapacity": 2, "maxCapacity": 2}


def test_no_off_hours_no_scheduled_actions(recorded):
    assert recorded.plan.of_type(ACTION) == []


def test_registers_each_variants_resource_id(recorded):
    assert recorded.outputs_of(recorded.component(COMPONENT)) == {
        "resource_ids": {"stable": resource_id("stable"), "canary": resource_id("canary")}
    }
