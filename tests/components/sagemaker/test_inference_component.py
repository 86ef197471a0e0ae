"""InferenceComponent under Pulumi's mocks: the component, its copy scaling, scale from zero, alarms."""

from __future__ import annotations

import dataclasses

import pulumi_aws_native as aws_native
import pytest

from infra.components.sagemaker.inference_component import (
    DIMENSION,
    OWNED_AFTER_CREATE,
    SCALE_TO_ZERO_TAG,
    InferenceComponent,
    InferenceComponentArgs,
)
from infra.specs import component_specs
from tests.components.support import ACCOUNT, REGION, TAGS, Recorded, known, record_component
from tests.conftest import stack_settings

IC = "aws-native:sagemaker:InferenceComponent"
TARGET = "aws:appautoscaling/target:Target"
POLICY = "aws:appautoscaling/policy:Policy"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def spec(stack: str = "prod", name: str = "support-assistant", **scaling) -> component_specs.ComponentSpec:
    model = next(m for m in stack_settings(stack).sagemaker_models if m.name == name)
    built = component_specs.component_spec(stack, model)
    if scaling:
        built = dataclasses.replace(built, scaling=dataclasses.replace(built.scaling, **scaling))
    return built


def build(component: component_specs.ComponentSpec) -> Recorded:
    return record_component(
        lambda: InferenceComponent(
            "llm",
            InferenceComponentArgs(
                spec=component,
                endpoint_name=known("modelfleet-prod-shared-gpu-shared"),
                alerts_topic_arn=known(f"arn:aws:sns:{REGION}:{ACCOUNT}:alarms"),
                native_provider=aws_native.Provider("native", region=REGION),
                tags=TAGS,
            ),
        )
    )


@pytest.fixture(scope="module")
def warm() -> Recorded:
    return build(spec())


@pytest.fixture(scope="module")
def cold() -> Recorded:
    return build(spec("dev"))


def test_the_component_reserves_and_starts_as_specified(warm):
    (ic,) = warm.plan.of_type(IC)
    needs = ic.inputs["specification"]["computeResourceRequirements"]
    assert needs == {
        "numberOfAcceleratorDevicesRequired": 1,
        "numberOfCpuCoresRequired": 8,
        "minMemoryRequiredInMb": 49152,
    }
    assert ic.inputs["runtimeConfig"] == {"copyCount": 2}
    assert ic.inputs["variantName"] == "AllTraffic"
    assert ic.ignore_changes == sorted(OWNED_AFTER_CREATE)


def test_rollback_alarms_are_the_components_own(warm):
    (ic,) = warm.plan.of_type(IC)
    rollback = {a["alarmName"] for a in ic.inputs["deploymentConfig"]["autoRollbackConfiguration"]["alarms"]}
    declared = {a.inputs["name"] for a in warm.plan.of_type(ALARM)}
    assert rollback == {
        "modelfleet-prod-support-assistant-stable-p99-latency",
        "modelfleet-prod-support-assistant-stable-5xx-rate",
    }
    assert rollback <= declared


def test_copies_are_the_scalable_target_and_only_target_tracking_when_warm(warm):
    (target,) = warm.plan.of_type(TARGET)
    assert target.inputs["scalableDimension"] == DIMENSION
    assert target.inputs["resourceId"] == "inference-component/modelfleet-prod-support-assistant"
    types = [p.inputs["policyType"] for p in warm.plan.of_type(POLICY)]
    assert types == ["TargetTrackingScaling"]
    assert not [
        a for a in warm.plan.of_type(ALARM) if a.inputs.get("metricName") == "NoCapacityInvocationFailures"
    ]


def test_a_component_that_scales_to_zero_steps_back_out_on_failed_requests(cold):
    (target,) = cold.plan.of_type(TARGET)
    assert target.inputs["minCapacity"] == 0
    (step,) = [p for p in cold.plan.of_type(POLICY) if p.inputs["policyType"] == "StepScaling"]
    config = step.inputs["stepScalingPolicyConfiguration"]
    assert config["adjustmentType"] == "ChangeInCapacity" and config["metricAggregationType"] == "Maximum"
    (wake,) = [
        a for a in cold.plan.of_type(ALARM) if a.inputs.get("metricName") == "NoCapacityInvocationFailures"
    ]
    assert wake.inputs["namespace"] == "AWS/SageMaker" and wake.inputs["statistic"] == "Sum"
    assert wake.inputs["period"] == 60 and wake.inputs["evaluationPeriods"] == 1
    assert step.urn in wake.depends_on  # its action is the step policy's ARN
    (ic,) = cold.plan.of_type(IC)
    assert ic.tags[SCALE_TO_ZERO_TAG].startswith("dev callers retry")
    assert ic.inputs["runtimeConfig"] == {"copyCount": 1}  # created warm, then scales in


def test_without_an_acknowledgement_no_tag_is_written():
    recorded = build(spec("prod", min_copies=0))
    (ic,) = recorded.plan.of_type(IC)
    assert SCALE_TO_ZERO_TAG not in ic.tags
