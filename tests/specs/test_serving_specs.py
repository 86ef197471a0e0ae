"""Pure pieces of the SageMaker layer: alarm thresholds, schedules, IAM, guardrails, dashboard."""

from __future__ import annotations

import json

from infra.components.observability.dashboards import dashboard_body
from infra.components.storage.data_capture_bucket import tls_only_policy
from infra.contracts import instances
from infra.settings.catalog import OffHoursSettings, SageMakerModel, parse_model
from infra.specs import iam
from infra.specs.alarm_specs import serving_alarms
from infra.specs.model_record import dashboard_url
from infra.specs.schedules import off_hours_schedule
from tests.settings.test_catalog import model


def settings(**changes) -> SageMakerModel:
    return parse_model(model(**changes), region="eu-west-1")


def by_key(specs):
    return {s.key: s for s in specs}


def test_latency_threshold_is_the_slo_in_microseconds_and_rolls_back():
    specs = by_key(serving_alarms("prod", settings(), "ep", instances.lookup("ml.c5.xlarge")))
    latency = specs["stable-p99-latency"]
    assert (latency.metric_name, latency.extended_statistic, latency.threshold) == (
        "ModelLatency",
        "p99",
        100_000,
    )
    assert latency.rollback and specs["canary-5xx-rate"].rollback
    assert not specs["stable-4xx-rate"].rollback


def test_utilization_thresholds_scale_with_cores_and_gpus():
    gpu_box = instances.lookup("ml.g5.12xlarge")  # 48 vCPUs, 4 GPUs
    specs = by_key(serving_alarms("prod", settings(instance_type="ml.g5.12xlarge"), "ep", gpu_box))
    assert specs["stable-cpu"].threshold == 80 * 48
    assert specs["stable-gpu"].threshold == 90 * 4
    assert specs["stable-gpu-memory"].threshold == 90 * 4
    assert specs["stable-disk"].threshold == 80


def test_cpu_instances_get_no_gpu_alarms_and_serverless_no_instance_alarms():
    cpu = by_key(serving_alarms("prod", settings(), "ep", instances.lookup("ml.c5.xlarge")))
    assert "stable-gpu" not in cpu
    serverless = by_key(serving_alarms("dev", settings(), "ep", None))
    assert set(serverless) == {
        f"{v}-{k}" for v in ("stable", "canary") for k in ("p99-latency", "5xx-rate", "4xx-rate")
    }


def test_error_rates_are_metric_math_over_invocations():
    spec = by_key(serving_alarms("prod", settings(), "ep", None))["canary-5xx-rate"]
    assert spec.rate_of == ("Invocation5XXErrors", "Invocations")
    assert spec.threshold == 1


def test_no_invocations_alarm_only_when_the_tier_asks_and_only_on_stable():
    quiet = settings(alarms={"no_invocations_minutes": 30})
    specs = by_key(serving_alarms("prod", quiet, "ep", None))
    silence = specs["stable-no-invocations"]
    assert (silence.comparison, silence.treat_missing_data, silence.evaluation_periods) == (
        "LessThanThreshold", "breaching", 6)  # fmt: skip
    assert "canary-no-invocations" not in specs
    assert "stable-no-invocations" not in by_key(serving_alarms("dev", settings(), "ep", None))


def test_alarm_names_carry_environment_model_and_variant():
    names = [s.name for s in serving_alarms("staging", settings(), "ep", None)]
    assert "modelfleet-staging-fraud-scorer-canary-p99-latency" in names


def test_off_hours_crons_scale_down_at_the_end_and_up_at_the_start():
    schedule = off_hours_schedule(OffHoursSettings(timezone="Europe/Dublin", start="07:30", end="19:05"))
    assert schedule.scale_down == "cron(5 19 ? * MON-FRI *)"
    assert schedule.scale_up == "cron(30 7 ? * MON-FRI *)"
    assert schedule.timezone == "Europe/Dublin"


VPC_ARN = "arn:aws:ec2:eu-west-1:123456789012:vpc/vpc-0abc"


def test_execution_policy_grants_named_actions_on_named_resources():
    policy = iam.model_execution_policy(
        artifact_arns=[iam.s3_object_arn("s3://art/fraud/v1/model.tar.gz")],
        repository_arns=["arn:aws:ecr:eu-west-1:123456789012:repository/scorer"],
        log_group_arn="arn:aws:logs:eu-west-1:1:log-group:/aws/sagemaker/Endpoints/ep",
        key_arn="arn:aws:kms:eu-west-1:1:key/k",
        capture_object_arn="arn:aws:s3:::capture/fraud/*",
        capture_key_arn="arn:aws:kms:eu-west-1:1:key/c",
        vpc_arn=VPC_ARN,
    )
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert statements["ReadArtifacts"] == {"Effect": "Allow", "Action": ["s3:GetObject"],
                                           "Resource": ["arn:aws:s3:::art/fraud/v1/*"], "Sid": "ReadArtifacts"}  # fmt: skip
    assert statements["WriteDataCapture"]["Resource"] == ["arn:aws:s3:::capture/fraud/*"]
    for statement in policy["Statement"]:
        assert all("*" not in action for action in statement["Action"]), statement
    unscoped = {s["Sid"] for s in policy["Statement"] if s["Resource"] == ["*"]}
    assert unscoped == {"EcrLogin", "DescribeNetwork"}  # IAM cannot scope these
    # Every call that creates, shares or deletes an interface is held to the stack's VPC.
    ec2_changes = [s for s in policy["Statement"] if any(a.startswith("ec2:") and "Describe" not in a
                                                          for a in s["Action"])]  # fmt: skip
    assert {a for s in ec2_changes for a in s["Action"]} == {
        "ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission",
        "ec2:DeleteNetworkInterface", "ec2:DeleteNetworkInterfacePermission",
    }  # fmt: skip
    for statement in ec2_changes:
        if statement["Resource"] != ["arn:aws:ec2:eu-west-1:123456789012:network-interface/*"] or statement[
            "Action"
        ] != ["ec2:CreateNetworkInterface"]:
            assert statement["Condition"] == {"ArnEquals": {"ec2:Vpc": VPC_ARN}}, statement


def test_serverless_policy_has_no_network_interface_rights():
    policy = iam.model_execution_policy(artifact_arns=["x"], repository_arns=["y"], log_group_arn="l",
                                        key_arn="k")  # fmt: skip
    assert not any(a.startswith("ec2:") for s in policy["Statement"] for a in s["Action"])


def test_dashboard_shows_every_variant_and_the_slo():
    body = dashboard_body("eu-west-1", "ep", ["stable", "canary"], 100, gpus=True, instances=True)
    text = json.dumps(body)
    titles = [w["properties"]["title"] for w in body["widgets"]]
    assert "Model latency p50 / p99 (microseconds)" in titles
    assert "Instances per variant" in titles
    assert text.count('"VariantName", "canary"') >= 6
    assert "GPUUtilization" in text
    latency = next(w for w in body["widgets"] if w["properties"]["title"].startswith("Model latency"))
    assert latency["properties"]["annotations"]["horizontal"][0]["value"] == 100_000
    assert dashboard_url("eu-west-1", "d").endswith("#dashboards:name=d")


def test_bucket_policy_denies_plain_http():
    (statement,) = tls_only_policy("arn:aws:s3:::b")["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_our_image_on_sagemaker_queues_for_half_the_p99_objective_and_a_dlc_gets_no_setting():
    from infra.contracts import serving
    from infra.specs.sagemaker_specs import endpoint_spec

    ours = endpoint_spec("prod", "eu-west-1", settings(environment={"LOG_LEVEL": "info"}))
    for variant in ours.variants:
        assert variant.container["environment"] == {serving.ENV_QUEUE_DEADLINE_MS: "50", "LOG_LEVEL": "info"}
    own = endpoint_spec("prod", "eu-west-1", settings(environment={serving.ENV_QUEUE_DEADLINE_MS: "20"}))
    assert own.variants[0].container["environment"] == {
        serving.ENV_QUEUE_DEADLINE_MS: "20"
    }  # the model's wins
    dlc = settings(image=None, framework={"name": "sklearn", "version": "1.2-1"})
    assert endpoint_spec("prod", "eu-west-1", dlc).variants[0].container["environment"] == {}
