"""One SageMaker model endpoint under Pulumi's mocks: what it declares, per shape of model."""

from __future__ import annotations

import json

import pulumi_aws_native as aws_native
import pytest

from infra.components.sagemaker.sagemaker_model_endpoint import (
    SageMakerModelEndpoint,
    SageMakerModelEndpointArgs,
)
from infra.plan import Plan, record
from infra.settings.catalog import parse_model
from infra.specs.sagemaker_specs import endpoint_spec
from tests.settings.test_catalog import model

CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
ENDPOINT = "aws-native:sagemaker:Endpoint"
MODEL = "aws:sagemaker/model:Model"
TARGET = "aws:appautoscaling/target:Target"
POLICY = "aws:appautoscaling/policy:Policy"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def build(protect: bool = False, capture: bool = True, **changes) -> Plan:
    settings = parse_model(model(**changes), region="eu-west-1")

    def program():
        SageMakerModelEndpoint(
            "fraud",
            SageMakerModelEndpointArgs(
                spec=endpoint_spec("prod", "eu-west-1", settings),
                environment="prod",
                region="eu-west-1",
                account_id="111122223333",
                partition="aws",
                vpc_id="vpc-1",
                vpc_arn="arn:aws:ec2:eu-west-1:111122223333:vpc/vpc-1",
                vpc_cidr="10.0.0.0/16",
                subnet_ids=["subnet-a", "subnet-b"],
                s3_prefix_list_id="pl-s3",
                alerts_topic_arn="arn:aws:sns:eu-west-1:111122223333:alarms",
                native_provider=aws_native.Provider("native", region="eu-west-1"),
                tags={"environment": "prod"},
                capture_bucket="capture-bucket" if capture else None,
                capture_key_arn="arn:aws:kms:eu-west-1:111122223333:key/capture" if capture else None,
                protect=protect,
            ),
        )

    return record(program, stack="prod")


@pytest.fixture(scope="module")
def plan() -> Plan:
    return build(data_capture={"sampling_percent": 25})


def test_one_model_per_variant_in_private_subnets_with_network_isolation(plan):
    models = {m.name: m.inputs for m in plan.of_type(MODEL)}
    assert set(models) == {"fraud-stable", "fraud-canary"}
    assert (
        models["fraud-canary"]["primaryContainer"]["modelDataUrl"] == "s3://artifacts/fraud/v2/model.tar.gz"
    )
    for inputs in models.values():
        assert inputs["enableNetworkIsolation"] is True
        assert inputs["vpcConfig"]["subnets"] == ["subnet-a", "subnet-b"]
        assert inputs["primaryContainer"]["image"].endswith("@sha256:" + "ab" * 32)


def test_endpoint_config_carries_weights_routing_key_and_a_unique_prefix(plan):
    config = plan.get(CONFIG, "fraud-config").inputs
    variants = {v["variantName"]: v for v in config["productionVariants"]}
    assert {n: v["initialVariantWeight"] for n, v in variants.items()} == {"stable": 90, "canary": 10}
    assert {n: v["initialInstanceCount"] for n, v in variants.items()} == {"stable": 2, "canary": 2}
    assert all(
        v["routingConfigs"] == [{"routingStrategy": "LEAST_OUTSTANDING_REQUESTS"}] for v in variants.values()
    )
    assert config["namePrefix"] == "modelfleet-prod-fraud-scorer-"
    assert "name" not in config  # never a fixed name: a new config must coexist with the old one
    key = plan.get("aws:kms/key:Key", "fraud-logs-kms-key")
    assert config["kmsKeyArn"] == key.outputs["arn"]


def test_instance_store_types_get_no_volume_key():
    config = build(instance_type="ml.g5.xlarge").get(CONFIG, "fraud-config").inputs
    assert "kmsKeyArn" not in config


def test_data_capture_is_encrypted_and_sampled_under_the_model_prefix(plan):
    capture = plan.get(CONFIG, "fraud-config").inputs["dataCaptureConfig"]
    assert capture["initialSamplingPercentage"] == 25
    assert capture["destinationS3Uri"] == "s3://capture-bucket/fraud-scorer"
    assert capture["kmsKeyId"] == "arn:aws:kms:eu-west-1:111122223333:key/capture"


def test_no_capture_when_sampling_is_zero():
    config = build(data_capture={"sampling_percent": 0}).get(CONFIG, "fraud-config").inputs
    assert "dataCaptureConfig" not in config


def test_endpoint_keeps_autoscaled_counts_but_takes_weights_from_config(plan):
    endpoint = plan.get(ENDPOINT, "fraud-endpoint").inputs
    assert endpoint["endpointName"] == "modelfleet-prod-fraud-scorer"
    assert endpoint["endpointConfigName"] == plan.get(CONFIG, "fraud-config").outputs["name"]
    assert endpoint["retainAllVariantProperties"] is True
    assert endpoint["excludeRetainedVariantProperties"] == [
        {"variantPropertyType": "DesiredWeight"},
        {"variantPropertyType": "DataCaptureConfig"},
    ]


def test_guardrail_rolls_back_on_the_models_own_latency_and_error_alarms(plan):
    deployment = plan.get(ENDPOINT, "fraud-endpoint").inputs["deploymentConfig"]
    rollback = [a["alarmName"] for a in deployment["autoRollbackConfiguration"]["alarms"]]
    assert sorted(rollback) == sorted(
        f"modelfleet-prod-fraud-scorer-{v}-{k}"
        for v in ("stable", "canary")
        for k in ("p99-latency", "5xx-rate")
    )
    alarm_names = {a.inputs["name"] for a in plan.of_type(ALARM)}
    assert set(rollback) <= alarm_names
    policy = deployment["blueGreenUpdatePolicy"]
    assert policy["trafficRoutingConfiguration"]["type"] == "CANARY"
    assert policy["maximumExecutionTimeoutInSeconds"] == 3600


def test_alarms_have_static_dimensions_and_notify_the_topic(plan):
    alarms = plan.of_type(ALARM)
    assert len(alarms) == 10  # 5 per variant on a CPU instance
    for alarm in alarms:
        inputs = alarm.inputs
        assert inputs["alarmActions"] == ["arn:aws:sns:eu-west-1:111122223333:alarms"]
        dims = inputs.get("dimensions") or inputs["metricQueries"][0]["metric"]["dimensions"]
        assert dims["EndpointName"] == "modelfleet-prod-fraud-scorer"
        assert dims["VariantName"] in ("stable", "canary")


def test_autoscaling_targets_each_variant_with_explicit_target_tracking(plan):
    targets = {t.name: t.inputs for t in plan.of_type(TARGET)}
    assert (
        targets["fraud-autoscaling-stable"]["resourceId"]
        == "endpoint/modelfleet-prod-fraud-scorer/variant/stable"
    )
    assert (
        targets["fraud-autoscaling-stable"]["minCapacity"],
        targets["fraud-autoscaling-stable"]["maxCapacity"],
    ) == (2, 6)
    assert targets["fraud-autoscaling-canary"]["minCapacity"] == 2
    for target in targets.values():
        assert target["scalableDimension"] == "sagemaker:variant:DesiredInstanceCount"
    for policy in plan.of_type(POLICY):
        assert policy.inputs["policyType"] == "TargetTrackingScaling"
        tracking = policy.inputs["targetTrackingScalingPolicyConfiguration"]
        assert (
            tracking["predefinedMetricSpecification"]["predefinedMetricType"]
            == "SageMakerVariantInvocationsPerInstance"
        )
        assert tracking["targetValue"] == 500


def test_a_canary_parked_at_weight_zero_loses_its_scaling_target_but_keeps_its_variant():
    """The first of promote's two edits: the next pulumi up may then remove the variant."""
    variants = model()["variants"]
    variants["stable"]["weight"], variants["canary"]["weight"] = 100, 0
    parked = build(variants=variants)
    assert {t.name for t in parked.of_type(TARGET)} == {"fraud-autoscaling-stable"}
    config = parked.of_type(CONFIG)[0].inputs["productionVariants"]
    assert {v["variantName"]: v["initialVariantWeight"] for v in config} == {"stable": 100, "canary": 0}


def test_a_concurrency_target_adds_a_second_policy():
    autoscaling = {"min_instances": 2, "max_instances": 6, "target_invocations_per_instance_per_minute": 500,
                   "concurrency_target": 4}  # fmt: skip
    policies = build(autoscaling=autoscaling).of_type(POLICY)
    metrics = sorted(
        p.inputs["targetTrackingScalingPolicyConfiguration"]["predefinedMetricSpecification"][
            "predefinedMetricType"
        ]
        for p in policies
    )
    assert metrics.count("SageMakerVariantConcurrentRequestsPerModelHighResolution") == 2


def test_off_hours_schedule_lowers_and_restores_each_variant():
    plan = build(off_hours={"timezone": "Europe/Dublin", "start": "08:00", "end": "20:00", "instances": 1})
    actions = {a.name: a.inputs for a in plan.of_type("aws:appautoscaling/scheduledAction:ScheduledAction")}
    assert actions["fraud-autoscaling-stable-off-hours"]["schedule"] == "cron(0 20 ? * MON-FRI *)"
    assert actions["fraud-autoscaling-stable-off-hours"]["scalableTargetAction"] == {
        "minCapacity": 1,
        "maxCapacity": 1,
    }
    assert actions["fraud-autoscaling-stable-working-hours"]["scalableTargetAction"] == {
        "minCapacity": 2,
        "maxCapacity": 6,
    }
    assert actions["fraud-autoscaling-canary-working-hours"]["timezone"] == "Europe/Dublin"
    assert len(actions) == 4


def test_execution_role_reads_only_its_artifacts_and_writes_only_its_capture_prefix(plan):
    policy = json.loads(plan.get("aws:iam/rolePolicy:RolePolicy", "fraud-execution-policy").inputs["policy"])
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert statements["ReadArtifacts"]["Resource"] == [
        "arn:aws:s3:::artifacts/fraud/v1/*",
        "arn:aws:s3:::artifacts/fraud/v2/*",
    ]
    assert statements["PullImages"]["Resource"] == ["arn:aws:ecr:eu-west-1:123456789012:repository/scorer"]
    assert statements["WriteDataCapture"]["Resource"] == ["arn:aws:s3:::capture-bucket/fraud-scorer/*"]
    log_group = plan.get("aws:cloudwatch/logGroup:LogGroup", "fraud-logs-group")
    assert statements["WriteOwnLogs"]["Resource"][0] == log_group.outputs["arn"]
    assert all("*" not in a for s in policy["Statement"] for a in s["Action"])


def test_model_security_group_allows_https_egress_to_the_vpc_and_s3_only(plan):
    rules = [r.inputs for r in plan.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")]
    targets = {(r["fromPort"], r["toPort"], r.get("cidrIpv4") or r.get("prefixListId")) for r in rules}
    assert targets == {(443, 443, "10.0.0.0/16"), (443, 443, "pl-s3")}
    assert plan.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") == []


def test_endpoint_log_group_is_encrypted_with_the_models_key(plan):
    group = plan.get("aws:cloudwatch/logGroup:LogGroup", "fraud-logs-group").inputs
    assert group["name"] == "/aws/sagemaker/Endpoints/modelfleet-prod-fraud-scorer"
    assert group["kmsKeyId"] == plan.get("aws:kms/key:Key", "fraud-logs-kms-key").outputs["arn"]


def test_protect_covers_the_key_and_the_log_group():
    plan = build(protect=True)
    protected = sorted(r.name for r in plan.resources if r.protect)
    assert protected == ["fraud-logs-group", "fraud-logs-kms-key"]


def test_serverless_model_has_no_vpc_autoscaling_guardrail_or_instance_alarms():
    plan = build(instance_type=None, autoscaling=None, serverless={"memory_mb": 3072, "max_concurrency": 8},
                 variants={"stable": {"model_data": "s3://artifacts/churn/v3/model.tar.gz"}})  # fmt: skip
    (variant,) = plan.get(CONFIG, "fraud-config").inputs["productionVariants"]
    assert variant["serverlessConfig"] == {"memorySizeInMb": 3072, "maxConcurrency": 8}
    assert "instanceType" not in variant
    assert "vpcConfig" not in plan.get(MODEL, "fraud-stable").inputs
    assert plan.of_type(TARGET) == []
    assert "deploymentConfig" not in plan.get(ENDPOINT, "fraud-endpoint").inputs
    assert {a.inputs["metricName"] for a in plan.of_type(ALARM) if "metricName" in a.inputs} == {
        "ModelLatency"
    }


def test_model_package_variants_use_the_registry_and_its_declared_locations():
    plan = build(
        variants={"stable": {"model_package_arn": "arn:aws:sagemaker:eu-west-1:123456789012:model-package/fraud/7",
                             "instance_count": 2}},
        registry_access={"artifact_s3_prefix": "s3://registry-artifacts/fraud/",
                         "image_repository": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/fraud-serving:7"},
    )  # fmt: skip
    container = plan.get(MODEL, "fraud-stable").inputs["primaryContainer"]
    assert container["modelPackageName"].endswith("model-package/fraud/7")
    assert "image" not in container
    policy = json.loads(plan.get("aws:iam/rolePolicy:RolePolicy", "fraud-execution-policy").inputs["policy"])
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert "arn:aws:s3:::registry-artifacts/fraud/*" in statements["ReadArtifacts"]["Resource"]
    assert (
        "arn:aws:ecr:eu-west-1:123456789012:repository/fraud-serving" in statements["PullImages"]["Resource"]
    )
