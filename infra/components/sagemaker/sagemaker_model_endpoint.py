"""One catalog model served by a SageMaker real-time endpoint, with all it needs.

Per variant a Model; one EndpointConfiguration holding every variant and its
weight; the Endpoint with a blue/green guardrail that rolls back on the model's
own alarms; autoscaling; a dashboard. The Endpoint comes from pulumi-aws-native
because only it can pass ``RetainAllVariantProperties`` to UpdateEndpoint: a new
config then keeps the instance counts autoscaling has reached, instead of
falling back to each variant's initial count (weights and data capture still
follow the config, so the stack stays the source of truth for them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_aws_native as aws_native

from infra.components.observability.dashboards import ModelDashboard, ModelDashboardArgs
from infra.components.observability.encrypted_log_group import EncryptedLogGroup, EncryptedLogGroupArgs
from infra.components.observability.serving_alarms import ServingAlarms, ServingAlarmsArgs
from infra.components.sagemaker.endpoint_autoscaling import (
    EndpointAutoscaling,
    EndpointAutoscalingArgs,
    VariantScaling,
)
from infra.components.sagemaker.model_execution_role import ModelExecutionRole, ModelExecutionRoleArgs
from infra.contracts import instances
from infra.settings.catalog import ModelSettings
from infra.specs import alarm_specs, capacity, iam, model_record, naming, sagemaker_specs
from infra.specs.schedules import off_hours_schedule


@dataclass
class SageMakerModelEndpointArgs:
    model: ModelSettings
    environment: str
    region: str
    account_id: pulumi.Input[str]
    partition: pulumi.Input[str]
    vpc_id: pulumi.Input[str]
    vpc_arn: pulumi.Input[str]  # holds the execution role's network-interface rights to this VPC
    vpc_cidr: str
    subnet_ids: Sequence[pulumi.Input[str]]
    s3_prefix_list_id: pulumi.Input[str]
    alerts_topic_arn: pulumi.Input[str]
    native_provider: pulumi.ProviderResource
    tags: Mapping[str, str]
    capture_bucket: pulumi.Input[str] | None = None
    capture_key_arn: pulumi.Input[str] | None = None
    log_retention_days: int = 30
    protect: bool = False


class SageMakerModelEndpoint(pulumi.ComponentResource):
    endpoint_name: str
    dashboard_url: str

    def __init__(
        self, name: str, args: SageMakerModelEndpointArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("modelfleet:sagemaker:ModelEndpoint", name, None, opts)
        model, child = args.model, pulumi.ResourceOptions(parent=self)
        tags = {**args.tags, "team": model.team, "model": model.name}
        instance = instances.lookup(model.instance_type) if model.instance_type else None
        partition = iam.partition_for(args.region)
        serverless = model.serverless is not None
        capture = model.data_capture.sampling_percent > 0 and args.capture_bucket is not None
        self.endpoint_name = naming.endpoint(args.environment, model.name)
        logs = EncryptedLogGroup(
            f"{name}-logs",
            EncryptedLogGroupArgs(
                log_group_name=f"/aws/sagemaker/Endpoints/{self.endpoint_name}",
                key_alias=naming.name(args.environment, model.name, "endpoint"),
                description=f"SageMaker endpoint {self.endpoint_name}: volumes and logs",
                region=args.region,
                account_id=args.account_id,
                partition=args.partition,
                retention_days=args.log_retention_days,
                tags=tags,
                protect=args.protect,
            ),
            opts=child,
        )
        key, log_group = logs.key, logs.log_group
        role = ModelExecutionRole(
            f"{name}-execution",
            ModelExecutionRoleArgs(
                account_id=args.account_id,
                artifact_arns=sagemaker_specs.artifact_arns(model, partition),
                repository_arns=sagemaker_specs.repository_arns(model, partition),
                log_group_arn=log_group.arn,
                key_arn=key.arn,
                capture_object_arn=pulumi.Output.concat(
                    f"arn:{partition}:s3:::", args.capture_bucket, f"/{model.name}/*"
                )
                if capture
                else None,
                capture_key_arn=args.capture_key_arn if capture else None,
                vpc_arn=None if serverless else args.vpc_arn,
                tags=tags,
            ),
            opts=child,
        )
        vpc_config = None if serverless else self._vpc_config(name, args, tags)

        production_variants, models = [], []
        for variant_name, variant in model.variants.items():
            container: dict[str, Any] = {"environment": dict(model.environment)}
            if variant.model_package_arn:
                container["model_package_name"] = variant.model_package_arn
            else:
                container |= {"image": variant.image or model.image_uri, "model_data_url": variant.model_data}
            sagemaker_model = aws.sagemaker.Model(
                f"{name}-{variant_name}",
                execution_role_arn=role.arn,
                primary_container=container,
                enable_network_isolation=model.network_isolation and not serverless,
                vpc_config=vpc_config,
                tags=tags,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[role.policy]),
            )
            models.append(sagemaker_model)
            production_variant: dict[str, Any] = {
                "variant_name": variant_name,
                "model_name": sagemaker_model.name,
                "initial_variant_weight": variant.weight,
            }
            if model.serverless:
                production_variant["serverless_config"] = {
                    "memory_size_in_mb": model.serverless.memory_mb,
                    "max_concurrency": model.serverless.max_concurrency,
                }
            else:
                production_variant |= {
                    "instance_type": model.instance_type,
                    "initial_instance_count": variant.instance_count,
                    "routing_configs": [{"routing_strategy": "LEAST_OUTSTANDING_REQUESTS"}],
                }
            production_variants.append(production_variant)

        config = aws.sagemaker.EndpointConfiguration(
            f"{name}-config",
            # Every change makes a new config (they are immutable); a unique
            # prefix lets it exist beside the old one until the update is done.
            name_prefix=naming.name(args.environment, model.name, max_length=36) + "-",
            production_variants=production_variants,
            # Instance-store volumes are hardware-encrypted and SageMaker refuses a key for them.
            kms_key_arn=key.arn if instance and not instance.local_storage else None,
            data_capture_config={
                "enable_capture": True,
                "initial_sampling_percentage": model.data_capture.sampling_percent,
                "destination_s3_uri": pulumi.Output.concat("s3://", args.capture_bucket, f"/{model.name}"),
                "kms_key_id": args.capture_key_arn,
                "capture_options": [{"capture_mode": "Input"}, {"capture_mode": "Output"}],
                "capture_content_type_header": sagemaker_specs.CAPTURE_CONTENT_TYPES,
            }
            if capture
            else None,
            tags=tags,
            opts=child,
        )

        specs = alarm_specs.serving_alarms(args.environment, model, self.endpoint_name, instance)
        alarms = ServingAlarms(
            f"{name}-alarms",
            ServingAlarmsArgs(
                dimensions={
                    v: {"EndpointName": self.endpoint_name, "VariantName": v}
                    for v, _ in model.variants.items()
                },
                specs=specs,
                topic_arn=args.alerts_topic_arn,
                tags=tags,
            ),
            opts=child,
        )
        self.endpoint = aws_native.sagemaker.Endpoint(
            f"{name}-endpoint",
            endpoint_name=self.endpoint_name,
            endpoint_config_name=config.name,
            deployment_config=None
            if serverless
            else sagemaker_specs.deployment_config(model.deployment, alarms.rollback_alarm_names),
            retain_all_variant_properties=True,
            exclude_retained_variant_properties=[
                {"variant_property_type": prop} for prop in sagemaker_specs.EXCLUDED_FROM_RETENTION
            ],
            tags=[{"key": k, "value": v} for k, v in sorted(tags.items())],
            opts=pulumi.ResourceOptions(parent=self, provider=args.native_provider, depends_on=[log_group]),
        )

        if model.autoscaling:
            scaling = model.autoscaling
            bounds = [VariantScaling("stable", scaling.min_instances, scaling.max_instances)]
            if model.variants.canary and capacity.canary_scales(model.variants.canary.weight):
                bounds.append(
                    VariantScaling("canary", model.variants.canary.instance_count, scaling.max_instances)
                )
            EndpointAutoscaling(
                f"{name}-autoscaling",
                EndpointAutoscalingArgs(
                    endpoint_name=self.endpoint.endpoint_name,
                    variants=bounds,
                    tags=tags,
                    invocations_per_instance_per_minute=scaling.target_invocations_per_instance_per_minute,
                    scale_in_cooldown_seconds=scaling.scale_in_cooldown_seconds,
                    scale_out_cooldown_seconds=scaling.scale_out_cooldown_seconds,
                    concurrency_target=scaling.concurrency_target,
                    off_hours=off_hours_schedule(model.off_hours) if model.off_hours else None,
                    off_hours_instances=model.off_hours.instances if model.off_hours else 1,
                ),
                opts=child,
            )

        dashboard = ModelDashboard(
            f"{name}-dashboard",
            ModelDashboardArgs(
                dashboard_name=model_record.dashboard_name(args.environment, model.name),
                region=args.region,
                endpoint_name=self.endpoint_name,
                variants=[v for v, _ in model.variants.items()],
                p99_slo_ms=model.slo.p99_latency_ms,
                gpus=bool(instance and instance.gpus),
                instances=instance is not None,
            ),
            opts=child,
        )
        self.variant_names = [v for v, _ in model.variants.items()]
        self.dashboard_url = dashboard.url
        self.alarm_names = [alarm.name for alarm in alarms.alarms.values()]
        self.register_outputs(
            {
                "endpoint_name": self.endpoint.endpoint_name,
                "variant_names": self.variant_names,
                "dashboard_url": self.dashboard_url,
                "alarm_names": self.alarm_names,
            }
        )

    def _vpc_config(self, name: str, args: SageMakerModelEndpointArgs, tags: Mapping[str, str]) -> dict:
        """A security group that lets the model reach AWS APIs over HTTPS and nothing else."""
        group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=args.vpc_id,
            description=f"SageMaker model {args.model.name}: HTTPS to VPC endpoints and S3 only",
            revoke_rules_on_delete=True,
            tags=dict(tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        egress = (
            ("https-vpc", "HTTPS to the VPC's interface endpoints", {"cidr_ipv4": args.vpc_cidr}),
            (
                "https-s3",
                "HTTPS to S3 through the gateway endpoint",
                {"prefix_list_id": args.s3_prefix_list_id},
            ),
        )
        for rule, description, target in egress:
            aws.vpc.SecurityGroupEgressRule(
                f"{name}-{rule}",
                security_group_id=group.id,
                description=description,
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                tags=dict(tags),
                opts=pulumi.ResourceOptions(parent=self),
                **target,
            )
        return {"subnets": list(args.subnet_ids), "security_group_ids": [group.id]}
