"""DriftMonitor under Pulumi's mocks: a schedule that starts the drift job, its two roles, code and alarms."""

from __future__ import annotations

import json

import pulumi
import pytest

from infra.components.observability.drift_monitor import DriftMonitor, DriftMonitorArgs, job_code
from infra.components.sagemaker.model_network import HttpsOnlyNetwork
from infra.contracts import drift
from infra.settings.catalog import parse_model
from infra.specs import drift_specs
from tests.components.support import ACCOUNT, REGION, TAGS, Recorded, known, outside, record_component
from tests.settings.test_catalog import model

COMPONENT = "modelfleet:observability:DriftMonitor"
SCHEDULE = "aws:scheduler/schedule:Schedule"
ROLE = "aws:iam/role:Role"
POLICY = "aws:iam/rolePolicy:RolePolicy"
OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
BUCKET = "modelfleet-test-capture-20261203"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0a1b2c3d-0000-4000-8000-000000000001"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:modelfleet-test-alarms"
VPC_ARN = f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/vpc-0123"
SUBNETS = ["subnet-a", "subnet-b"]
FEATURES = ["amount", "merchant_category", "hour"]
SETTINGS = parse_model(
    model(data_capture={"sampling_percent": 25}, drift={"features": FEATURES, "schedule": "hourly"}),
    region=REGION,
)
SPEC = drift_specs.drift_spec("test", REGION, SETTINGS)


def build() -> Recorded:
    def program():
        DriftMonitor(
            "fraud-drift",
            DriftMonitorArgs(
                spec=SPEC,
                region=REGION,
                account_id=ACCOUNT,
                partition="aws",
                capture_bucket=known(BUCKET),
                capture_key_arn=known(KEY),
                network=HttpsOnlyNetwork(
                    known("vpc-0123"), "10.0.0.0/16", [known(s) for s in SUBNETS], "pl-s3"
                ),
                vpc_arn=known(VPC_ARN),
                alerts_topic_arn=known(TOPIC),
                tags=TAGS,
                code=pulumi.StringAsset("stand-in for the job's zip"),
            ),
        )

    return record_component(program)


@pytest.fixture(scope="module")
def recorded() -> Recorded:
    return build()


@pytest.fixture(scope="module")
def request_sent(recorded) -> dict:
    (schedule,) = recorded.plan.of_type(SCHEDULE)
    return json.loads(schedule.inputs["target"]["input"])


def roles(recorded) -> dict[str, dict]:
    return {r.name: r for r in recorded.plan.of_type(ROLE)}


def policy(recorded, name: str) -> dict:
    return json.loads(recorded.plan.get(POLICY, name).inputs["policy"])


def statements(document: dict) -> dict[str, dict]:
    return {s["Sid"]: s for s in document["Statement"]}


def test_everything_sits_under_the_component(recorded):
    root = recorded.component(COMPONENT)
    assert outside(recorded.plan, root) == []
    assert sorted(r.type for r in recorded.plan.descendants(root.urn) if r.custom) == sorted(
        [OBJECT, ROLE, ROLE, POLICY, POLICY, SCHEDULE, ALARM, ALARM]
        + ["aws:ec2/securityGroup:SecurityGroup"]
        + ["aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"] * 2
    )


def test_the_code_is_an_object_in_the_capture_bucket_under_the_code_prefix_encrypted_with_its_key(recorded):
    (code,) = recorded.plan.of_type(OBJECT)
    assert code.inputs["bucket"] == BUCKET
    assert code.inputs["key"] == f"{drift_specs.CODE_PREFIX}/fraud-scorer/{drift_specs.CODE_ARCHIVE}"
    assert (code.inputs["serverSideEncryption"], code.inputs["kmsKeyId"]) == ("aws:kms", KEY)


def test_the_schedule_runs_hourly_on_time_encrypted_and_calls_create_processing_job(recorded):
    (schedule,) = recorded.plan.of_type(SCHEDULE)
    scheduler_role = roles(recorded)["fraud-drift-scheduler-role"]
    assert schedule.inputs["scheduleExpression"] == "rate(1 hour)"
    assert schedule.inputs["flexibleTimeWindow"] == {"mode": "OFF"}
    assert schedule.inputs["kmsKeyArn"] == KEY
    assert schedule.inputs["name"] == "modelfleet-test-fraud-scorer-drift"
    target = schedule.inputs["target"]
    assert target["arn"] == "arn:aws:scheduler:::aws-sdk:sagemaker:createProcessingJob"
    assert target["roleArn"] == scheduler_role.outputs["arn"]


def test_each_run_is_a_processing_job_named_after_the_execution(recorded, request_sent):
    job_role = roles(recorded)["fraud-drift-job-role"]
    name = request_sent["ProcessingJobName"]
    assert name == "modelfleet-test-fraud-scorer-drift-<aws.scheduler.execution-id>"
    assert len(name.replace("<aws.scheduler.execution-id>", "x" * 16)) <= 63
    assert request_sent["RoleArn"] == job_role.outputs["arn"]
    app = request_sent["AppSpecification"]
    assert app["ImageUri"].endswith("/sagemaker-scikit-learn:1.2-1-cpu-py3")
    assert app["ContainerEntrypoint"] == ["python3", "-m", "infra.ops.drift.job"]
    assert app["ContainerArguments"] == [
        "--bucket", BUCKET, "--model", "fraud-scorer", "--window-hours", "1", "--features", ",".join(FEATURES),
    ]  # fmt: skip
    assert request_sent["Environment"] == {"PYTHONPATH": "/opt/ml/processing/input/code/drift-job.zip"}
    (code,) = request_sent["ProcessingInputs"]
    assert code["S3Input"]["S3Uri"] == f"s3://{BUCKET}/{drift_specs.CODE_PREFIX}/fraud-scorer/"


def test_the_job_runs_small_encrypted_bounded_and_in_the_private_subnets(recorded, request_sent):
    cluster = request_sent["ProcessingResources"]["ClusterConfig"]
    assert cluster == {
        "InstanceCount": 1,
        "InstanceType": "ml.m5.large",
        "VolumeSizeInGB": 20,
        "VolumeKmsKeyId": KEY,
    }
    assert request_sent["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600}
    network = request_sent["NetworkConfig"]
    assert network["EnableNetworkIsolation"] is False
    (group,) = recorded.plan.of_type("aws:ec2/securityGroup:SecurityGroup")
    assert network["VpcConfig"] == {"Subnets": SUBNETS, "SecurityGroupIds": [group.id]}
    egress = recorded.plan.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
    assert {(e.inputs["fromPort"], e.inputs["toPort"]) for e in egress} == {(443, 443)}
    assert {e.inputs.get("cidrIpv4") or e.inputs.get("prefixListId") for e in egress} == {
        "10.0.0.0/16",
        "pl-s3",
    }


def test_the_roles_trust_their_service_for_this_account_only(recorded):
    found = roles(recorded)
    job = json.loads(found["fraud-drift-job-role"].inputs["assumeRolePolicy"])["Statement"][0]
    assert job["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert job["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    scheduler = json.loads(found["fraud-drift-scheduler-role"].inputs["assumeRolePolicy"])["Statement"][0]
    assert scheduler["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert scheduler["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:SourceArn": f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/default/"
                    "modelfleet-test-fraud-scorer-drift"},
    }  # fmt: skip


def test_the_scheduler_may_start_the_jobs_and_pass_exactly_the_job_role(recorded):
    granted = statements(policy(recorded, "fraud-drift-scheduler-policy"))
    job_role = roles(recorded)["fraud-drift-job-role"].outputs["arn"]
    assert granted["StartOwnDriftJobs"]["Action"] == ["sagemaker:AddTags", "sagemaker:CreateProcessingJob"]
    assert granted["StartOwnDriftJobs"]["Resource"] == [
        f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:processing-job/modelfleet-test-fraud-scorer-drift-*"
    ]
    assert granted["PassOnlyTheJobRole"]["Resource"] == [job_role]
    assert granted["PassOnlyTheJobRole"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}
    }
    assert granted["EncryptJobVolume"]["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    assert {r for s in granted.values() for r in s["Resource"]} == {
        granted["StartOwnDriftJobs"]["Resource"][0],
        job_role,
        KEY,
    }


def test_the_job_reads_its_model_writes_its_reports_and_publishes_to_the_drift_namespace_only(recorded):
    granted = statements(policy(recorded, "fraud-drift-job-policy"))
    s3 = f"arn:aws:s3:::{BUCKET}"
    assert granted["ReadCapturesAndCode"]["Resource"] == [
        f"{s3}/fraud-scorer/*",
        f"{s3}/{drift_specs.CODE_PREFIX}/fraud-scorer/{drift_specs.CODE_ARCHIVE}",
    ]
    assert granted["ListOwnPrefixes"]["Condition"] == {
        "StringLike": {
            "s3:prefix": [
                "fraud-scorer/",
                "fraud-scorer/*",
                "_code/drift/fraud-scorer/",
                "_code/drift/fraud-scorer/*",
            ]
        }
    }
    assert granted["WriteOwnReports"] == {
        "Effect": "Allow", "Action": ["s3:PutObject"], "Resource": [f"{s3}/fraud-scorer/drift/reports/*"],
        "Sid": "WriteOwnReports",
    }  # fmt: skip
    assert granted["PublishDriftMetrics"]["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": drift.NAMESPACE}
    }
    assert granted["UseCaptureKey"]["Resource"] == [KEY]
    streams = granted["WriteOwnLogStreams"]["Resource"]
    assert streams == [
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/sagemaker/ProcessingJobs:log-stream:"
        "modelfleet-test-fraud-scorer-drift-*"
    ]
    writes = {a for s in granted.values() for a in s["Action"] if a.startswith("s3:Put")}
    assert writes == {"s3:PutObject"}
    assert all("*" not in a for s in granted.values() for a in s["Action"])


def test_alarms_watch_the_contracts_metrics_and_tell_the_topic(recorded):
    alarms = {a.inputs["name"]: a.inputs for a in recorded.plan.of_type(ALARM)}
    features = alarms["modelfleet-test-fraud-scorer-drift-features"]
    share = alarms["modelfleet-test-fraud-scorer-drift-share"]
    for alarm in (features, share):
        assert alarm["namespace"] == drift.NAMESPACE
        assert alarm["dimensions"] == {drift.DIMENSION_MODEL: "fraud-scorer"}
        assert alarm["period"] == 3600
        assert alarm["treatMissingData"] == "notBreaching"
        assert alarm["alarmActions"] == [TOPIC] and alarm["okActions"] == [TOPIC]
    assert (features["metricName"], features["threshold"], features["comparisonOperator"]) == (
        drift.METRIC_DRIFTED_FEATURES,
        0,
        "GreaterThanThreshold",
    )
    assert (features["evaluationPeriods"], features["datapointsToAlarm"]) == (2, 2)
    assert (share["metricName"], share["threshold"]) == (drift.METRIC_DRIFT_SHARE, 0.3)


def test_registered_outputs(recorded):
    outputs = recorded.outputs_of(recorded.component(COMPONENT))
    assert outputs["schedule_name"] == "modelfleet-test-fraud-scorer-drift"
    assert outputs["code_key"].endswith("/fraud-scorer/drift-job.zip")
    assert sorted(outputs["alarm_names"]) == [
        "modelfleet-test-fraud-scorer-drift-features",
        "modelfleet-test-fraud-scorer-drift-share",
    ]


def test_the_job_code_zips_the_drift_package_with_the_contract_it_imports():
    archive = job_code()
    assert sorted(archive.assets) == [
        "infra/__init__.py",
        "infra/contracts/__init__.py",
        "infra/contracts/drift.py",
        "infra/ops/__init__.py",
        "infra/ops/clients.py",
        "infra/ops/drift/__init__.py",
        "infra/ops/drift/baseline.py",
        "infra/ops/drift/captures.py",
        "infra/ops/drift/cli.py",
        "infra/ops/drift/job.py",
        "infra/ops/drift/stats.py",
        "infra/ops/drift/store.py",
    ]  # the sources one by one: never __pycache__, whose presence would change the code's digest
    assert all(asset.path.endswith(".py") for asset in archive.assets.values())


def test_the_zip_holds_every_module_the_job_imports():
    """The job runs from the zip alone (plus the container's libraries): every infra module it
    reaches from infra/ops/drift/job.py is in it."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    archived = set(job_code().assets)

    def in_zip(relative: str) -> bool:
        return relative in archived or any(relative.startswith(a + "/") for a in archived)

    seen, todo = set(), ["infra/ops/drift/job.py"]
    while todo:
        relative = todo.pop()
        if relative in seen:
            continue
        seen.add(relative)
        assert in_zip(relative), f"the job reaches {relative}, which the zip lacks"
        for node in ast.walk(ast.parse((root / relative).read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("infra"):
                base = node.module.replace(".", "/")
                for alias in node.names:
                    for candidate in (f"{base}/{alias.name}.py", f"{base}.py"):
                        if (root / candidate).is_file():
                            todo.append(candidate)
                            break
    assert "infra/ops/clients.py" in seen and "infra/contracts/drift.py" in seen
