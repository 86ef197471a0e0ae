"""Shared endpoints and inference components in the shipped stacks' plans, end to end."""

from __future__ import annotations

import json

import botocore.session
import pytest
from botocore.validate import ParamValidator
from sagemaker.core import image_uris

from infra.contracts import instances, runtimes
from infra.specs import component_fit
from tests.conftest import stack_settings

COMPONENT = "aws-native:sagemaker:InferenceComponent"
CONFIG = "aws-native:sagemaker:EndpointConfig"
ENDPOINT = "aws-native:sagemaker:Endpoint"
TARGET = "aws:appautoscaling/target:Target"
POLICY = "aws:appautoscaling/policy:Policy"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"


def components(plan) -> dict[str, dict]:
    return {c.inputs["inferenceComponentName"]: c for c in plan.of_type(COMPONENT)}


def test_prod_holds_one_shared_endpoint_with_an_llm_and_a_classic_component(shipped_plans):
    plan = shipped_plans["prod"]
    (config,) = plan.of_type(CONFIG)
    (variant,) = config.inputs["productionVariants"]
    assert "modelName" not in variant  # the components bring the models
    assert config.inputs["executionRoleArn"]  # which SageMaker requires without a model
    assert config.inputs["vpcConfig"]["subnets"]
    # g5 volumes are instance store, encrypted by the hardware: SageMaker refuses a key for them.
    assert instances.lookup("ml.g5.12xlarge").local_storage and "kmsKeyId" not in config.inputs
    assert config.inputs["enableNetworkIsolation"] is False  # LMI fetches its weights from S3 itself
    assert variant["managedInstanceScaling"] | {} == {
        "status": "ENABLED",
        "minInstanceCount": 2,
        "maxInstanceCount": 4,
        "scaleInPolicy": {"strategy": "IDLE_RELEASE", "cooldownInMinutes": 10},
    }
    assert variant["routingConfig"] == {"routingStrategy": "LEAST_OUTSTANDING_REQUESTS"}
    endpoints = [e for e in plan.of_type(ENDPOINT) if e.inputs["endpointName"].endswith("-shared-gpu-shared")]
    assert len(endpoints) == 1
    found = components(plan)
    assert set(found) == {"modelfleet-prod-support-assistant", "modelfleet-prod-ticket-router"}
    assert all(c.inputs["endpointName"] == endpoints[0].inputs["endpointName"] for c in found.values())


def test_each_reservation_fits_its_instance_type(shipped_plans):
    for stack in ("dev", "prod"):
        plan = shipped_plans[stack]
        for config in plan.of_type(CONFIG):
            shape = instances.lookup(config.inputs["productionVariants"][0]["instanceType"])
            host = component_fit.host_capacity(shape)
            for component in components(plan).values():
                needs = component.inputs["specification"]["computeResourceRequirements"]
                assert needs.get("numberOfAcceleratorDevicesRequired", 0) <= host.accelerators
                assert needs["numberOfCpuCoresRequired"] <= host.cpu_cores
                assert 128 <= needs["minMemoryRequiredInMb"] <= host.memory_mib


def test_the_llm_runs_the_sdk_resolved_lmi_image_with_its_engine_options(shipped_plans):
    llm = components(shipped_plans["prod"])["modelfleet-prod-support-assistant"]
    container = llm.inputs["specification"]["container"]
    expected = image_uris.retrieve(
        runtimes.LMI.framework,
        region="eu-west-1",
        version=runtimes.LMI.version,
        instance_type="ml.g5.12xlarge",
        image_scope="inference",
    )
    assert container["image"] == expected
    assert container["environment"]["OPTION_MAX_MODEL_LEN"] == "8192"
    assert container["environment"]["OPTION_TENSOR_PARALLEL_DEGREE"] == "1"
    assert (
        llm.inputs["specification"]["computeResourceRequirements"]["numberOfAcceleratorDevicesRequired"] == 1
    )


def test_copies_scale_per_component_on_the_inference_component_dimension(shipped_plans):
    plan = shipped_plans["prod"]
    targets = {
        t.inputs["resourceId"]: t
        for t in plan.of_type(TARGET)
        if "inference-component" in t.inputs["resourceId"]
    }
    assert set(targets) == {
        "inference-component/modelfleet-prod-support-assistant",
        "inference-component/modelfleet-prod-ticket-router",
    }
    for target in targets.values():
        assert target.inputs["scalableDimension"] == "sagemaker:inference-component:DesiredCopyCount"
        assert target.inputs["serviceNamespace"] == "sagemaker"
    llm = targets["inference-component/modelfleet-prod-support-assistant"]
    assert (llm.inputs["minCapacity"], llm.inputs["maxCapacity"]) == (2, 6)
    metrics = {
        p.inputs["targetTrackingScalingPolicyConfiguration"]["predefinedMetricSpecification"][
            "predefinedMetricType"
        ]
        for p in plan.of_type(POLICY)
        if p.inputs.get("resourceId", "").startswith("inference-component/")
    }
    assert metrics == {
        "SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution",
        "SageMakerInferenceComponentInvocationsPerCopy",
    }


def test_alarms_watch_each_component_by_name_and_guard_its_rolling_update(shipped_plans):
    plan = shipped_plans["prod"]
    llm = components(plan)["modelfleet-prod-support-assistant"]
    names = {a.inputs["name"]: a for a in plan.of_type(ALARM)}
    rollback = [a["alarmName"] for a in llm.inputs["deploymentConfig"]["autoRollbackConfiguration"]["alarms"]]
    assert rollback and all(name in names for name in rollback)
    mine = [a for n, a in names.items() if n.startswith("modelfleet-prod-support-assistant-")]
    assert len(mine) >= 5
    for alarm in mine:
        queries = alarm.inputs.get("metricQueries") or [{"metric": alarm.inputs}]
        dimensions = [q["metric"]["dimensions"] for q in queries if q.get("metric")]
        assert dimensions and all(
            d == {"InferenceComponentName": llm.inputs["inferenceComponentName"]} for d in dimensions
        )
    policy = llm.inputs["deploymentConfig"]["rollingUpdatePolicy"]
    assert policy["maximumBatchSize"] == {"type": "COPY_COUNT", "value": 1}
    assert policy["waitIntervalInSeconds"] == 600


def test_the_stack_never_resets_copies_or_a_rollouts_version(shipped_plans):
    for component in components(shipped_plans["prod"]).values():
        assert component.ignore_changes == ["runtimeConfig", "specification"]
        assert component.inputs["runtimeConfig"]["copyCount"] >= 1  # at creation only


def test_the_dashboard_has_a_row_per_component(shipped_plans):
    plan = shipped_plans["prod"]
    (dashboard,) = [
        d for d in plan.of_type(DASHBOARD) if d.inputs["dashboardName"] == "modelfleet-prod-shared-gpu-shared"
    ]
    titles = [w["properties"]["title"] for w in json.loads(dashboard.inputs["dashboardBody"])["widgets"]]
    for name in components(plan):
        assert sum(title.startswith(f"{name}:") for title in titles) == 3


def test_dev_scales_to_zero_and_back_out_from_zero(shipped_plans):
    plan = shipped_plans["dev"]
    (config,) = plan.of_type(CONFIG)
    scaling = config.inputs["productionVariants"][0]["managedInstanceScaling"]
    assert (
        scaling["minInstanceCount"] == 0
        and config.inputs["productionVariants"][0]["initialInstanceCount"] == 1
    )
    (component,) = components(plan).values()
    name = component.inputs["inferenceComponentName"]
    (target,) = [t for t in plan.of_type(TARGET) if t.inputs["resourceId"] == f"inference-component/{name}"]
    assert target.inputs["minCapacity"] == 0
    (step,) = [p for p in plan.of_type(POLICY) if p.inputs.get("policyType") == "StepScaling"]
    assert step.inputs["resourceId"] == target.inputs["resourceId"]
    assert step.inputs["stepScalingPolicyConfiguration"]["stepAdjustments"][0]["scalingAdjustment"] == 1
    (wake,) = [a for a in plan.of_type(ALARM) if a.inputs.get("metricName") == "NoCapacityInvocationFailures"]
    assert wake.inputs["dimensions"] == {"InferenceComponentName": name}
    assert (
        wake.inputs["comparisonOperator"] == "GreaterThanOrEqualToThreshold" and wake.inputs["threshold"] == 1
    )
    assert wake.inputs["alarmActions"] == [step.outputs["arn"]]  # the alarm adds a copy, it pages no one
    assert (
        component.tags["scale-to-zero-acknowledged"]
        == stack_settings("dev").placed_on("llm-sandbox")[0].component.scale_to_zero_acknowledged
    )


def test_placed_models_are_exported_with_their_component(shipped_plans):
    models = shipped_plans["prod"].outputs["models"]
    record = models["support-assistant"]
    assert record["inference_component"] == "modelfleet-prod-support-assistant"
    assert record["endpoint_name"] == "modelfleet-prod-shared-gpu-shared"
    assert record["copies"] == {"min": 2, "max": 6}
    assert "modelfleet-prod-support-assistant-stable-5xx-rate" in record["alarm_names"]


def _api_shape(value, key: str = ""):
    """aws-native's camelCase inputs in the API's PascalCase; environment variable names kept as given."""
    if isinstance(value, dict):
        if key == "environment":
            return dict(value)
        return {k[0].upper() + k[1:]: _api_shape(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_api_shape(item) for item in value]
    return value


def _enum_errors(shape, value, path: str = "") -> list[str]:
    """Values outside an enum of the model (botocore's own validator does not check enums)."""
    if shape.type_name == "structure" and isinstance(value, dict):
        return [
            e
            for k, v in value.items()
            if k in shape.members
            for e in _enum_errors(shape.members[k], v, f"{path}.{k}")
        ]
    if shape.type_name == "list" and isinstance(value, list):
        return [e for i, v in enumerate(value) for e in _enum_errors(shape.member, v, f"{path}[{i}]")]
    if getattr(shape, "enum", None) and value not in shape.enum:
        return [f"{path}: {value!r} not in {shape.enum}"]
    return []


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_planned_resources_are_valid_sagemaker_requests(shipped_plans, stack):
    """CloudFormation's names are the API's; botocore's model checks every field, enum and bound."""
    model = botocore.session.get_session().get_service_model("sagemaker")
    checks = {CONFIG: "CreateEndpointConfig", COMPONENT: "CreateInferenceComponent"}
    for type_, operation in checks.items():
        for resource in shipped_plans[stack].of_type(type_):
            request = _api_shape(resource.inputs)
            request.pop(
                "DeploymentConfig", None
            )  # an update's, checked in tests/specs/test_component_specs.py
            shape = model.operation_model(operation).input_shape
            report = ParamValidator().validate(request, shape)
            assert not report.has_errors(), f"{resource.name}: {report.generate_report()}"
            assert _enum_errors(shape, request) == []


def test_copy_scaling_uses_names_application_auto_scaling_knows(shipped_plans):
    model = botocore.session.get_session().get_service_model("application-autoscaling")
    dimensions = model.shape_for("ScalableDimension").enum
    metrics = model.shape_for("MetricType").enum
    for stack in ("dev", "prod"):
        plan = shipped_plans[stack]
        for target in plan.of_type(TARGET):
            assert target.inputs["scalableDimension"] in dimensions
        for policy in plan.of_type(POLICY):
            tracking = policy.inputs.get("targetTrackingScalingPolicyConfiguration")
            if tracking:
                assert tracking["predefinedMetricSpecification"]["predefinedMetricType"] in metrics
    assert "sagemaker:inference-component:DesiredCopyCount" in dimensions
