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

from infra.components.observability.dashboards import DriftWidgets, ModelDashboard, ModelDashboardArgs
from infra.components.observability.encrypted_log_group import EncryptedLogGroup, EncryptedLogGroupArgs
from infra.components.observability.serving_alarms import ServingAlarms, ServingAlarmsArgs
from infra.components.sagemaker.endpoint_autoscaling import EndpointAutoscaling, EndpointAutoscalingArgs
from infra.components.sagemaker.model_execution_role import ModelExecutionRole, ModelExecutionRoleArgs
from infra.components.sagemaker.model_network import HttpsOnlyNetwork, https_only_vpc_config
from infra.specs import iam, naming, sagemaker_specs
from infra.specs.sagemaker_specs import EndpointSpec


@dataclass
class SageMakerModelEndpointArgs:
    """One model's endpoint (decided by ``sagemaker_specs.endpoint_spec``) and the platform it plugs into."""

    spec: EndpointSpec  # the model: variants, capacity, alarms, guardrail, scaling, dashboard
    environment: str  # dev, staging or prod: physical names and the log key's alias
    region: str  # the stack's region: the dashboard's and log key's
    account_id: pulumi.Input[str]  # scopes the log key's policy to this account
    partition: pulumi.Input[str]  # aws, aws-cn or aws-us-gov: the ARNs in policies
    vpc_id: pulumi.Input[str]  # where the model's security group lives
    vpc_arn: pulumi.Input[str]  # holds the execution role's network-interface rights to this VPC
    vpc_cidr: str  # the model may reach the VPC's interface endpoints here, on 443 only
    subnet_ids: Sequence[pulumi.Input[str]]  # private subnets the model's network interfaces go in
    s3_prefix_list_id: pulumi.Input[str]  # the S3 gateway endpoint's prefix list: artifacts and capture
    alerts_topic_arn: pulumi.Input[str]  # where its alarms notify
    native_provider: pulumi.ProviderResource  # aws-native, pinned to the stack's region, for the Endpoint
    tags: Mapping[str, str]  # the stack's tags; the component adds team and model
    capture_bucket: pulumi.Input[str] | None = None  # the stack's data-capture bucket, if any model captures
    capture_key_arn: pulumi.Input[str] | None = None  # that bucket's KMS key
    log_retention_days: int = 30  # the endpoint's log group; CloudWatch Logs' fixed set of values
    protect: bool = False  # protect the log group and its key from deletion (prod)


class SageMakerModelEndpoint(pulumi.ComponentResource):
    """The parent of every resource of one SageMaker model, so a model is one node of the tree."""

    endpoint_name: str
    dashboard_url: str

    def __init__(
        self, name: str, args: SageMakerModelEndpointArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("modelfleet:sagemaker:ModelEndpoint", name, None, opts)
        spec, child = args.spec, pulumi.ResourceOptions(parent=self)
        tags = {**args.tags, "team": spec.team, "model": spec.model_name}
        partition = iam.partition_for(args.region)
        serverless = spec.serverless is not None
        capture = spec.capture_percent > 0 and args.capture_bucket is not None
        self.endpoint_name = spec.endpoint_name
        logs = EncryptedLogGroup(
            f"{name}-logs",
            EncryptedLogGroupArgs(
                log_group_name=f"/aws/sagemaker/Endpoints/{self.endpoint_name}",
                key_alias=naming.name(args.environment, spec.model_name, "endpoint"),
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
                artifact_arns=list(spec.artifact_arns),
                repository_arns=list(spec.repository_arns),
                log_group_arn=log_group.arn,
                key_arn=key.arn,
                capture_object_arn=pulumi.Output.concat(
                    f"arn:{partition}:s3:::", args.capture_bucket, f"/{spec.model_name}/*"
                )
                if capture
                else None,
                capture_key_arn=args.capture_key_arn if capture else None,
                vpc_arn=None if serverless else args.vpc_arn,
                tags=tags,
            ),
            opts=child,
        )
        vpc_config = (
            None
            if serverless
            else https_only_vpc_config(
                self,
                name,
                HttpsOnlyNetwork(args.vpc_id, args.vpc_cidr, args.subnet_ids, args.s3_prefix_list_id),
                f"SageMaker model {spec.model_name}",
                tags,
            )
        )

        production_variants, shadow_variants, models = [], [], []
        shadow = [spec.shadow] if spec.shadow else []
        for variant in [*spec.variants, *shadow]:
            sagemaker_model = aws.sagemaker.Model(
                f"{name}-{variant.name}",
                execution_role_arn=role.arn,
                primary_container=dict(variant.container),
                enable_network_isolation=spec.network_isolation,
                vpc_config=vpc_config,
                tags=tags,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[role.policy]),
            )
            models.append(sagemaker_model)
            production_variant: dict[str, Any] = {
                "variant_name": variant.name,
                "model_name": sagemaker_model.name,
                "initial_variant_weight": variant.weight,
            }
            if spec.serverless:
                production_variant["serverless_config"] = {
                    "memory_size_in_mb": spec.serverless.memory_mb,
                    "max_concurrency": spec.serverless.max_concurrency,
                }
            else:
                production_variant |= {
                    "instance_type": spec.instance_type,
                    "initial_instance_count": variant.instance_count,
                    "routing_configs": [{"routing_strategy": "LEAST_OUTSTANDING_REQUESTS"}],
                }
            (shadow_variants if variant is spec.shadow else production_variants).append(production_variant)

        config = aws.sagemaker.EndpointConfiguration(
            f"{name}-config",
            # Every change makes a new config (they are immutable); a unique
            # prefix lets it exist beside the old one until the update is done.
            name_prefix=naming.name(args.environment, spec.model_name, max_length=36) + "-",
            production_variants=production_variants,
            # A copy of the production variant's traffic; its weight over production's is the share.
            shadow_production_variants=shadow_variants or None,
            # Instance-store volumes are hardware-encrypted and SageMaker refuses a key for them.
            kms_key_arn=key.arn if spec.encrypt_volume else None,
            data_capture_config={
                "enable_capture": True,
                "initial_sampling_percentage": spec.capture_percent,
                "destination_s3_uri": pulumi.Output.concat(
                    "s3://", args.capture_bucket, f"/{spec.model_name}"
                ),
                "kms_key_id": args.capture_key_arn,
                "capture_options": [{"capture_mode": "Input"}, {"capture_mode": "Output"}],
                "capture_content_type_header": sagemaker_specs.CAPTURE_CONTENT_TYPES,
            }
            if capture
            else None,
            tags=tags,
            opts=child,
        )

        alarms = ServingAlarms(
            f"{name}-alarms",
            ServingAlarmsArgs(
                dimensions={
                    v.name: {"EndpointName": self.endpoint_name, "VariantName": v.name}
                    for v in [*spec.variants, *shadow]
                },
                specs=list(spec.alarms),
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
            if spec.guardrail is None
            else sagemaker_specs.deployment_config(spec.guardrail, alarms.rollback_alarm_names),
            retain_all_variant_properties=True,
            exclude_retained_variant_properties=[
                {"variant_property_type": prop} for prop in sagemaker_specs.EXCLUDED_FROM_RETENTION
            ],
            tags=[{"key": k, "value": v} for k, v in sorted(tags.items())],
            opts=pulumi.ResourceOptions(parent=self, provider=args.native_provider, depends_on=[log_group]),
        )

        if spec.scaling is not None:
            EndpointAutoscaling(
                f"{name}-autoscaling",
                EndpointAutoscalingArgs(
                    endpoint_name=self.endpoint.endpoint_name, policy=spec.scaling, tags=tags
                ),
                opts=child,
            )

        dashboard = ModelDashboard(
            f"{name}-dashboard",
            ModelDashboardArgs(
                dashboard_name=spec.dashboard_name,
                region=args.region,
                endpoint_name=self.endpoint_name,
                variants=[v.name for v in [*spec.variants, *shadow]],
                p99_slo_ms=spec.p99_slo_ms,
                gpus=spec.gpus,
                instances=spec.instance_type is not None,
                drift=DriftWidgets(spec.model_name, spec.drift_features, spec.drift_period_seconds)
                if spec.drift_features
                else None,
            ),
            opts=child,
        )
        self.variant_names = [v.name for v in spec.variants]
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
