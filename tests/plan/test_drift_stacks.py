"""The shipped stacks' drift monitoring: fraud-scorer's schedule, roles, alarms and dashboard row."""

from __future__ import annotations

import json

import pytest

from infra.components.observability.drift_monitor import job_code
from infra.contracts import drift

SCHEDULE = "aws:scheduler/schedule:Schedule"
MONITOR = "modelfleet:observability:DriftMonitor"
ENDPOINT_COMPONENT = "modelfleet:sagemaker:ModelEndpoint"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE = "aws:iam/role:Role"
BUCKET = "aws:s3/bucket:Bucket"
KEY = "aws:kms/key:Key"
DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"
FEATURES = ["txn_velocity", "merchant_category", "hour", "card_present", "international", "amount"]


def test_dev_schedules_no_drift(shipped_plans):
    plan = shipped_plans["dev"]
    assert plan.of_type(SCHEDULE) == [] and plan.of_type(MONITOR) == []


@pytest.mark.parametrize(
    ("stack", "rate", "window"), [("staging", "rate(1 day)", "24"), ("prod", "rate(1 hour)", "1")]
)
def test_fraud_scorer_is_compared_on_its_tiers_schedule(shipped_plans, stack, rate, window):
    plan = shipped_plans[stack]
    monitor = plan.get(MONITOR, "platform-fraud-scorer-drift")
    (parent,) = [r for r in plan.of_type(ENDPOINT_COMPONENT) if r.urn == monitor.parent]
    assert parent.name == "platform-fraud-scorer"  # the model stays one node of the tree
    (schedule,) = [s for s in plan.of_type(SCHEDULE) if s.parent == monitor.urn]
    assert schedule.inputs["scheduleExpression"] == rate
    assert schedule.inputs["flexibleTimeWindow"] == {"mode": "OFF"}
    (capture_key,) = [k for k in plan.of_type(KEY) if k.name == "platform-data-capture-kms-key"]
    assert schedule.inputs["kmsKeyArn"] == capture_key.outputs["arn"]
    target = schedule.inputs["target"]
    assert target["arn"] == "arn:aws:scheduler:::aws-sdk:sagemaker:createProcessingJob"
    sent = json.loads(target["input"])
    (bucket,) = [b for b in plan.of_type(BUCKET) if "capture" in b.name]
    args = sent["AppSpecification"]["ContainerArguments"]
    assert args == ["--bucket", bucket.outputs["bucket"], "--model", "fraud-scorer", "--window-hours", window,
                    "--features", ",".join(FEATURES)]  # fmt: skip
    assert sent["ProcessingJobName"] == f"modelfleet-{stack}-fraud-scorer-drift-<aws.scheduler.execution-id>"
    private = sorted(s.id for s in plan.of_type("aws:ec2/subnet:Subnet") if "private" in s.name)
    assert sorted(sent["NetworkConfig"]["VpcConfig"]["Subnets"]) == private
    assert sent["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] == capture_key.outputs["arn"]


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_the_scheduler_role_passes_only_the_job_role_and_starts_only_drift_jobs(shipped_plans, stack):
    plan = shipped_plans[stack]
    job_role = plan.get(ROLE, "platform-fraud-scorer-drift-job-role").outputs["arn"]
    document = json.loads(plan.get(POLICY, "platform-fraud-scorer-drift-scheduler-policy").inputs["policy"])
    granted = {a: s for s in document["Statement"] for a in s["Action"]}
    assert set(granted) == {
        "sagemaker:AddTags", "sagemaker:CreateProcessingJob", "iam:PassRole",
        "kms:Decrypt", "kms:DescribeKey", "kms:CreateGrant",
    }  # fmt: skip
    assert granted["iam:PassRole"]["Resource"] == [job_role]
    assert granted["sagemaker:CreateProcessingJob"]["Resource"] == [
        f"arn:aws:sagemaker:eu-west-1:123456789012:processing-job/modelfleet-{stack}-fraud-scorer-drift-*"
    ]
    trust = json.loads(
        plan.get(ROLE, "platform-fraud-scorer-drift-scheduler-role").inputs["assumeRolePolicy"]
    )
    assert trust["Statement"][0]["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_the_job_role_touches_only_its_models_prefix_and_the_drift_namespace(shipped_plans, stack):
    plan = shipped_plans[stack]
    document = json.loads(plan.get(POLICY, "platform-fraud-scorer-drift-job-policy").inputs["policy"])
    by_sid = {s["Sid"]: s for s in document["Statement"]}
    assert by_sid["PublishDriftMetrics"]["Resource"] == ["*"]
    assert by_sid["PublishDriftMetrics"]["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": drift.NAMESPACE}
    }
    assert [r.rsplit(":::", 1)[1].split("/", 1)[1] for r in by_sid["WriteOwnReports"]["Resource"]] == [
        "fraud-scorer/drift/reports/*"
    ]
    unscoped = sorted(a for s in document["Statement"] if s["Resource"] == ["*"] and "Condition" not in s
                      for a in s["Action"])  # fmt: skip
    assert all(a.startswith(("ec2:Describe", "ecr:GetAuthorizationToken")) for a in unscoped), unscoped


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_drift_alarms_tell_the_stacks_topic(shipped_plans, stack):
    plan = shipped_plans[stack]
    topic = plan.get("aws:sns/topic:Topic", "platform-alerts-topic").outputs["arn"]
    alarms = [
        a
        for a in plan.of_type(ALARM)
        if a.inputs.get("namespace") == drift.NAMESPACE
        and a.inputs["dimensions"][drift.DIMENSION_MODEL] == "fraud-scorer"
    ]
    assert sorted(a.inputs["metricName"] for a in alarms) == [
        drift.METRIC_DRIFT_SHARE,
        drift.METRIC_DRIFTED_FEATURES,
    ]
    for alarm in alarms:
        assert alarm.inputs["alarmActions"] == [topic]
        assert alarm.inputs["dimensions"] == {drift.DIMENSION_MODEL: "fraud-scorer"}
        assert alarm.inputs["treatMissingData"] == "notBreaching"


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_only_dashboards_of_models_with_drift_draw_a_drift_row(shipped_plans, stack):
    plan = shipped_plans[stack]
    for dashboard in plan.of_type(DASHBOARD):
        body = json.loads(dashboard.inputs["dashboardBody"])
        drift_metrics = [m for w in body["widgets"] for m in w["properties"].get("metrics", [])
                         if m[0] == drift.NAMESPACE]  # fmt: skip
        if dashboard.inputs["dashboardName"] == f"modelfleet-{stack}-fraud-graph":  # EKS: the drift row alone
            assert stack == "prod" and {w["properties"]["title"].split(":")[0] for w in body["widgets"]} == {
                "Drift"
            }
        elif stack != "dev" and dashboard.inputs["dashboardName"] == f"modelfleet-{stack}-fraud-scorer":
            psi = [m for m in drift_metrics if m[1] == drift.METRIC_FEATURE_PSI]
            assert [m[5] for m in psi] == FEATURES
            assert {m[1] for m in drift_metrics} >= {drift.METRIC_DRIFTED_FEATURES, drift.METRIC_DRIFT_SHARE}
        else:
            assert drift_metrics == []


def test_the_code_objects_source_is_planned_by_path_and_digest_not_by_object_identity(shipped_plans):
    source = shipped_plans["prod"].get(
        "aws:s3/bucketObjectv2:BucketObjectv2", "platform-fraud-scorer-drift-code"
    )
    archive = source.inputs["source"]["archive"]
    assert sorted(archive) == sorted(job_code().assets)  # the zip the component uploads, by name
    assert archive["infra/contracts/drift.py"].startswith("<file infra/contracts/drift.py sha256:")
    assert archive["infra/ops/drift/job.py"].startswith("<file infra/ops/drift/job.py sha256:")


def test_captures_and_reports_expire_but_baselines_and_the_jobs_code_stay(shipped_plans):
    (lifecycle,) = [
        r
        for r in shipped_plans["prod"].of_type(
            "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
        )
        if r.name.startswith("platform-data-capture")
    ]
    rules = {rule["id"]: rule for rule in lifecycle.inputs["rules"]}
    expiring = sorted(r["filter"]["prefix"] for r in rules.values() if "expiration" in r)
    assert expiring == [
        "fraud-graph/drift/reports/",
        "fraud-graph/eks/",
        "fraud-scorer/drift/reports/",
        "fraud-scorer/modelfleet-prod-fraud-scorer/",
        "support-summarizer/drift/reports/",
        "support-summarizer/modelfleet-prod-support-summarizer/",
    ]
    assert all(r["expiration"] == {"days": 90} for r in rules.values() if "expiration" in r)
    kept = ["fraud-scorer/drift/baseline.json", "_code/drift/fraud-scorer/drift-job.zip"]
    assert not [k for k in kept for prefix in expiring if k.startswith(prefix)]
    housekeeping = rules["expire-captures-housekeeping"]
    assert housekeeping["filter"] == {} and housekeeping["abortIncompleteMultipartUpload"] == {
        "daysAfterInitiation": 1
    }
