"""Scheduled drift monitoring of one SageMaker model, without SageMaker Model Monitor.

An EventBridge Scheduler schedule calls SageMaker's CreateProcessingJob (a universal
target) once per period. The job runs ``infra.ops.drift.job`` in the scikit-learn Deep
Learning Container, in the stack's private subnets, reads the model's captures and
baseline from the capture bucket, writes a report under ``<model>/drift/reports/`` and
publishes the metrics of ``infra.contracts.drift``; two alarms watch those metrics.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

import infra
from infra.components.observability.dashboards import DriftWidgets, drift_row
from infra.components.observability.serving_alarms import ServingAlarms, ServingAlarmsArgs
from infra.components.sagemaker.model_network import HttpsOnlyNetwork, https_only_vpc_config
from infra.contracts import drift
from infra.specs import drift_specs, iam, images
from infra.specs.alarm_specs import DRIFT
from infra.specs.drift_specs import DriftSpec

PACKAGE = Path(infra.__file__).resolve().parent


def job_code() -> pulumi.AssetArchive:
    """The job's code as the zip it runs from: the drift package, the client helper, the contract."""
    return pulumi.AssetArchive(
        {
            "infra/__init__.py": pulumi.FileAsset(str(PACKAGE / "__init__.py")),
            "infra/contracts/__init__.py": pulumi.FileAsset(str(PACKAGE / "contracts" / "__init__.py")),
            "infra/contracts/drift.py": pulumi.FileAsset(str(PACKAGE / "contracts" / "drift.py")),
            "infra/ops/__init__.py": pulumi.FileAsset(str(PACKAGE / "ops" / "__init__.py")),
            "infra/ops/clients.py": pulumi.FileAsset(str(PACKAGE / "ops" / "clients.py")),
            # The package's sources only, one by one: a folder archive would also take __pycache__,
            # so the code's digest (and the upload) would depend on whether Python wrote bytecode.
            **{
                f"infra/ops/drift/{source.name}": pulumi.FileAsset(str(source))
                for source in sorted((PACKAGE / "ops" / "drift").glob("*.py"))
            },
        }
    )


@dataclass
class DriftMonitorArgs:
    """One model's drift schedule (decided by ``drift_specs.drift_spec``) and the platform it plugs into."""

    spec: DriftSpec  # the schedule, the job's names, image and size, and the alarms
    region: str  # the stack's region: ARNs in the roles' policies
    account_id: pulumi.Input[str]  # the stack's account: trust conditions and ARNs
    partition: str  # aws, aws-cn or aws-us-gov: ARNs and the universal target
    capture_bucket: pulumi.Input[str]  # the stack's data-capture bucket: captures, baseline, reports, code
    capture_key_arn: pulumi.Input[str]  # its KMS key: the code object, the schedule's input, the job's volume
    network: HttpsOnlyNetwork  # private subnets; the job may reach the VPC's endpoints and S3 only
    vpc_arn: pulumi.Input[str]  # holds the job role's network-interface rights to the stack's VPC
    alerts_topic_arn: pulumi.Input[str]  # where the drift alarms notify
    tags: Mapping[str, str]  # the stack's tags; the component adds team and model
    code: pulumi.Archive | None = None  # the job's code (default: job_code(), this checkout's)
    # A dashboard of the drift row alone, for a model whose own CloudWatch dashboard cannot carry
    # it (an EKS model's serving dashboard is Grafana's); None: the model's dashboard draws the row.
    dashboard_name: str | None = None


class DriftMonitor(pulumi.ComponentResource):
    """The parent of one model's drift schedule, its two roles, its job's code and its alarms."""

    def __init__(self, name: str, args: DriftMonitorArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("modelfleet:observability:DriftMonitor", name, None, opts)
        spec, child = args.spec, pulumi.ResourceOptions(parent=self)
        tags = {**args.tags, "team": spec.team, "model": spec.model_name}
        partition, region = args.partition, args.region
        image = images.parse_ecr(spec.image_uri)
        repositories = [image.repository_arn(partition)] if image else []

        self.code = aws.s3.BucketObjectv2(
            f"{name}-code",
            bucket=args.capture_bucket,
            key=spec.code_key,
            source=args.code or job_code(),
            content_type="application/zip",
            server_side_encryption="aws:kms",
            kms_key_id=args.capture_key_arn,
            tags=tags,
            opts=child,
        )

        self.job_role = aws.iam.Role(
            f"{name}-job-role",
            description=f"SageMaker processing jobs comparing {spec.model_name}'s captures with its baseline",
            assume_role_policy=pulumi.Output.from_input(args.account_id).apply(
                lambda account: json.dumps(iam.service_trust("sagemaker.amazonaws.com", account))
            ),
            max_session_duration=3600,
            tags=tags,
            opts=child,
        )
        job_policy = pulumi.Output.all(
            args.account_id, args.capture_bucket, args.capture_key_arn, args.vpc_arn
        ).apply(
            lambda v: json.dumps(
                iam.drift_job_policy(
                    partition=partition,
                    region=region,
                    account_id=v[0],
                    bucket=v[1],
                    model_name=spec.model_name,
                    code_key=spec.code_key,
                    key_arn=v[2],
                    log_stream_prefix=f"{spec.job_name_prefix}-",
                    repository_arns=repositories,
                    vpc_arn=v[3],
                    namespace=drift.NAMESPACE,
                )
            )
        )
        self.job_policy = aws.iam.RolePolicy(
            f"{name}-job-policy", role=self.job_role.id, policy=job_policy, opts=child
        )

        self.scheduler_role = aws.iam.Role(
            f"{name}-scheduler-role",
            description=f"EventBridge Scheduler starting {spec.model_name}'s drift jobs",
            assume_role_policy=pulumi.Output.from_input(args.account_id).apply(
                lambda account: json.dumps(
                    iam.service_trust(
                        "scheduler.amazonaws.com",
                        account,
                        drift_specs.schedule_arn(partition, region, account, spec),
                    )
                )
            ),
            max_session_duration=3600,
            tags=tags,
            opts=child,
        )
        scheduler_policy = pulumi.Output.all(args.account_id, self.job_role.arn, args.capture_key_arn).apply(
            lambda v: json.dumps(
                iam.drift_scheduler_policy(
                    processing_job_arn_pattern=drift_specs.processing_job_arn_pattern(
                        partition, region, v[0], spec
                    ),
                    job_role_arn=v[1],
                    key_arn=v[2],
                )
            )
        )
        self.scheduler_policy = aws.iam.RolePolicy(
            f"{name}-scheduler-policy", role=self.scheduler_role.id, policy=scheduler_policy, opts=child
        )

        vpc_config = https_only_vpc_config(self, name, args.network, f"drift job of {spec.model_name}", tags)
        request = pulumi.Output.all(
            args.capture_bucket,
            self.job_role.arn,
            args.capture_key_arn,
            pulumi.Output.all(*vpc_config["subnets"]),
            pulumi.Output.all(*vpc_config["security_group_ids"]),
        ).apply(
            lambda v: json.dumps(
                drift_specs.processing_job_request(
                    spec,
                    bucket=v[0],
                    role_arn=v[1],
                    key_arn=v[2],
                    subnet_ids=v[3],
                    security_group_ids=v[4],
                    tags=tags,
                )
            )
        )
        self.schedule = aws.scheduler.Schedule(
            f"{name}-schedule",
            name=spec.schedule_name,
            description=f"Drift of {spec.model_name}: {spec.window_hours} h of captures against its baseline",
            schedule_expression=spec.schedule_expression,
            flexible_time_window={"mode": "OFF"},
            kms_key_arn=args.capture_key_arn,
            state="ENABLED",
            target={
                "arn": drift_specs.universal_target_arn(partition),
                "role_arn": self.scheduler_role.arn,
                "input": request,
                # A retry is a new execution ID, so a new job name: never a clash with a half-made job.
                "retry_policy": {"maximum_retry_attempts": 2, "maximum_event_age_in_seconds": 3600},
            },
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[self.code, self.job_policy, self.scheduler_policy]
            ),
        )

        self.alarms = ServingAlarms(
            f"{name}-alarms",
            ServingAlarmsArgs(
                dimensions={DRIFT: {drift.DIMENSION_MODEL: spec.model_name}},
                specs=list(spec.alarms),
                topic_arn=args.alerts_topic_arn,
                tags=tags,
            ),
            opts=child,
        )
        self.alarm_names = [alarm.name for alarm in self.alarms.alarms.values()]
        if args.dashboard_name is not None:
            widgets = DriftWidgets(spec.model_name, spec.features, spec.period_seconds)
            aws.cloudwatch.Dashboard(
                f"{name}-dashboard",
                dashboard_name=args.dashboard_name,
                dashboard_body=json.dumps({"widgets": drift_row(args.region, widgets, y=0)}),
                opts=child,
            )
        self.register_outputs(
            {
                "schedule_name": self.schedule.name,
                "job_role_arn": self.job_role.arn,
                "code_key": self.code.key,
                "alarm_names": self.alarm_names,
            }
        )
