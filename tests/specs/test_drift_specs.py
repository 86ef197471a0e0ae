"""Drift specs (pure): names that fit AWS's limits at the longest names, and the job's policies."""

from __future__ import annotations

from infra.contracts import drift
from infra.settings.catalog import parse_model
from infra.specs import drift_specs, iam
from infra.specs.naming import MODEL_NAME_MAX_LENGTH, STACK_NAME_MAX_LENGTH
from tests.settings.test_catalog import model

LONGEST_MODEL = "m" + "x" * (MODEL_NAME_MAX_LENGTH - 1)
LONGEST_STACK = "s" + "y" * (STACK_NAME_MAX_LENGTH - 1)


def spec(name: str = "fraud-scorer", environment: str = "prod", **drift_settings):
    settings = parse_model(
        model(name=name, data_capture={"sampling_percent": 20},
              drift={"features": ["amount"], "schedule": "daily", **drift_settings}),
        region="eu-west-1",
    )  # fmt: skip
    return drift_specs.drift_spec(environment, "eu-west-1", settings)


def test_names_fit_at_the_longest_model_and_stack_names():
    longest = spec(LONGEST_MODEL, LONGEST_STACK)
    assert len(longest.schedule_name) <= drift_specs.SCHEDULE_NAME_MAX
    job = drift_specs.processing_job_request(
        longest, bucket="b", role_arn="r", key_arn="k", subnet_ids=[], security_group_ids=[], tags={}
    )["ProcessingJobName"]
    assert len(job.replace(drift_specs.EXECUTION_ID, "d32c5kddcf5bb8c3")) <= 63
    assert spec().job_name_prefix == "modelfleet-prod-fraud-scorer-drift"


def test_a_daily_schedule_compares_a_day_and_stops_within_an_hour():
    daily = spec()
    assert (daily.schedule_expression, daily.period_seconds, daily.window_hours) == (
        "rate(1 day)",
        86_400,
        24,
    )
    assert daily.max_runtime_seconds == 3600
    assert {a.period_seconds for a in daily.alarms} == {86_400}
    assert spec(window_hours=48).window_hours == 48


def test_put_metric_data_is_held_to_the_drift_namespace_and_pass_role_to_sagemaker():
    job = iam.drift_job_policy(
        partition="aws", region="eu-west-1", account_id="111122223333", bucket="b", model_name="m",
        code_key="_code/drift/m/drift-job.zip", key_arn="k", log_stream_prefix="p-", repository_arns=["repo"],
        vpc_arn="arn:aws:ec2:eu-west-1:111122223333:vpc/vpc-1", namespace=drift.NAMESPACE,
    )  # fmt: skip
    (metrics,) = [s for s in job["Statement"] if "cloudwatch:PutMetricData" in s["Action"]]
    assert metrics["Condition"] == {"StringEquals": {"cloudwatch:namespace": "modelfleet/Drift"}}
    scheduler = iam.drift_scheduler_policy(processing_job_arn_pattern="p*", job_role_arn="role", key_arn="k")
    (passing,) = [s for s in scheduler["Statement"] if s["Action"] == ["iam:PassRole"]]
    assert passing["Resource"] == ["role"]
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}
