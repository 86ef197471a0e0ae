"""What a model's drift monitoring is made of, as plain data (no Pulumi; tested without mocks).

``drift_spec`` decides, from one catalog entry with drift on, everything the
``DriftMonitor`` component builds: the schedule, the job's names, image and size,
and its alarms. ``processing_job_request`` is the CreateProcessingJob request the
schedule sends, once the resources' ARNs and IDs are known.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from infra.contracts import drift as contract
from infra.settings.catalog import ModelBase, SageMakerModel
from infra.settings.drift import SCHEDULE_PERIOD_HOURS
from infra.specs import alarm_specs, images, naming
from infra.specs.alarm_specs import AlarmSpec

# The scikit-learn container: numpy, scipy and pandas, on a small CPU instance.
JOB_FRAMEWORK = ("sklearn", "1.2-1", "py3")
JOB_INSTANCE_TYPE = "ml.m5.large"
JOB_VOLUME_GB = 20
JOB_MODULE = "infra.ops.drift.job"
CODE_ARCHIVE = "drift-job.zip"
CODE_LOCAL_PATH = "/opt/ml/processing/input/code"
CODE_PREFIX = "_code/drift"  # in the capture bucket, beside the models' prefixes
# EventBridge Scheduler's per-invocation ID (its context attributes), substituted into the input.
EXECUTION_ID = "<aws.scheduler.execution-id>"
# Processing job names are 1-63 characters; the execution ID takes 16 (AWS's example) and more is kept free.
JOB_NAME_PREFIX_MAX = 40
SCHEDULE_NAME_MAX = 64  # EventBridge Scheduler's limit on a schedule's name


@dataclass(frozen=True)
class DriftSpec:
    """One model's drift schedule, job and alarms: plain values, decided from the settings."""

    model_name: str  # the catalog name: its capture prefix and the metrics' Model dimension
    team: str  # the owning team's tag
    schedule_name: str  # the EventBridge schedule's name (the scheduler role's trust names it)
    schedule_expression: str  # rate(1 hour) or rate(1 day)
    period_seconds: int  # one run per period: the alarms' period
    window_hours: int  # hours of captures each run compares
    features: tuple[str, ...]  # the features the job compares, in the catalog's order
    job_name_prefix: str  # every processing job's name starts with it; the execution ID follows
    image_uri: str  # the scikit-learn Deep Learning Container
    instance_type: str  # the processing instance
    volume_size_gb: int  # its encrypted volume
    max_runtime_seconds: int  # the job's stopping condition: never longer than a period
    code_key: str  # the job's code in the capture bucket
    alarms: tuple[AlarmSpec, ...]  # DriftedFeatures and DriftShare


def drift_spec(environment: str, region: str, model: ModelBase) -> DriftSpec:
    """Everything ``DriftMonitor`` builds for ``model`` (whose drift is on), decided here once."""
    settings = model.drift
    assert settings is not None and settings.on, f"drift is off for {model.name}"
    period = SCHEDULE_PERIOD_HOURS[settings.schedule] * 3600
    name, version, py = JOB_FRAMEWORK
    return DriftSpec(
        model_name=model.name,
        team=model.team,
        schedule_name=naming.name(environment, model.name, "drift", max_length=SCHEDULE_NAME_MAX),
        schedule_expression=settings.schedule_expression,
        period_seconds=period,
        window_hours=settings.window,
        features=tuple(settings.features),
        job_name_prefix=naming.name(environment, model.name, "drift", max_length=JOB_NAME_PREFIX_MAX),
        image_uri=images.deep_learning_container(name, version, region, JOB_INSTANCE_TYPE, py),
        instance_type=JOB_INSTANCE_TYPE,
        volume_size_gb=JOB_VOLUME_GB,
        max_runtime_seconds=min(period, 3600),
        code_key=f"{CODE_PREFIX}/{model.name}/{CODE_ARCHIVE}",
        alarms=tuple(alarm_specs.drift_alarms(environment, model.name, period, settings.max_drift_share)),
    )


def processing_job_request(
    spec: DriftSpec,
    *,
    bucket: str,
    role_arn: str,
    key_arn: str,
    subnet_ids: Sequence[str],
    security_group_ids: Sequence[str],
    tags: Mapping[str, str],
) -> dict[str, Any]:
    """CreateProcessingJob's request, as the schedule's universal target sends it (the API's own keys)."""
    code_dir = spec.code_key.rsplit("/", 1)[0] + "/"
    return {
        "ProcessingJobName": f"{spec.job_name_prefix}-{EXECUTION_ID}",
        "RoleArn": role_arn,
        "AppSpecification": {
            "ImageUri": spec.image_uri,
            "ContainerEntrypoint": ["python3", "-m", JOB_MODULE],
            "ContainerArguments": [
                "--bucket",
                bucket,
                "--model",
                spec.model_name,
                "--window-hours",
                str(spec.window_hours),
                "--features",
                ",".join(spec.features),
            ],
        },
        # The job runs from its zip: Python imports packages straight from a zip on its path.
        "Environment": {"PYTHONPATH": f"{CODE_LOCAL_PATH}/{CODE_ARCHIVE}"},
        "ProcessingInputs": [
            {
                "InputName": "code",
                "S3Input": {
                    "S3Uri": f"s3://{bucket}/{code_dir}",
                    "LocalPath": CODE_LOCAL_PATH,
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                },
            }
        ],
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceCount": 1,
                "InstanceType": spec.instance_type,
                "VolumeSizeInGB": spec.volume_size_gb,
                "VolumeKmsKeyId": key_arn,
            }
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": spec.max_runtime_seconds},
        "NetworkConfig": {
            # The job reads S3 and publishes to CloudWatch: through the VPC's endpoints, not isolated.
            "EnableNetworkIsolation": False,
            "EnableInterContainerTrafficEncryption": True,
            "VpcConfig": {"Subnets": list(subnet_ids), "SecurityGroupIds": list(security_group_ids)},
        },
        "Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())],
    }


def universal_target_arn(partition: str) -> str:
    """EventBridge Scheduler's universal target for SageMaker's CreateProcessingJob."""
    return f"arn:{partition}:scheduler:::aws-sdk:sagemaker:createProcessingJob"


def processing_job_arn_pattern(partition: str, region: str, account_id: str, spec: DriftSpec) -> str:
    return f"arn:{partition}:sagemaker:{region}:{account_id}:processing-job/{spec.job_name_prefix}-*"


def schedule_arn(partition: str, region: str, account_id: str, spec: DriftSpec) -> str:
    return f"arn:{partition}:scheduler:{region}:{account_id}:schedule/default/{spec.schedule_name}"


def expiring_prefixes(environment: str, models: Sequence[ModelBase]) -> list[str]:
    """What the capture bucket expires after the retention: each capturing model's captures (SageMaker
    writes ``<model>/<endpoint>/<variant>/yyyy/mm/dd/hh/``, EKS containers ``<model>/eks/<variant>/...``)
    and drift reports. A model's drift baseline
    and the drift job's code are kept."""
    prefixes = []
    for model in models:
        if not model.captures:
            continue
        if isinstance(model, SageMakerModel):
            prefixes.append(f"{model.name}/{naming.endpoint(environment, model.name)}/")
        else:
            prefixes.append(f"{model.name}/{contract.EKS_CAPTURE_FOLDER}/")
        prefixes.append(f"{model.name}/{contract.REPORTS_PREFIX}")
    return sorted(prefixes)
