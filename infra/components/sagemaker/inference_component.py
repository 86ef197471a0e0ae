"""One model placed on a shared endpoint: its inference component, copy autoscaling and alarms.

The stack creates the component with its first version and reservation; after
that, two owners change it and the stack must fight neither: Application Auto
Scaling owns the copy count, and ``modelfleet rollout`` owns the version (it
runs ``UpdateInferenceComponent`` with the rolling update declared here). So
``runtimeConfig`` and ``specification`` are ignored on update: a ``pulumi up``
never resets copies autoscaling added, nor restarts a rollout's replacement.

Scaling is target tracking on invocations or concurrent requests per copy
(resource ``inference-component/<name>``, dimension
``sagemaker:inference-component:DesiredCopyCount``). A component that may scale
to zero also gets the step policy AWS documents for scaling out from zero,
driven by an alarm on ``NoCapacityInvocationFailures``: target tracking alone
never adds the first copy back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_aws_native as aws_native

from infra.components.observability.serving_alarms import ServingAlarms, ServingAlarmsArgs
from infra.specs.alarm_specs import COMPONENT_DIMENSION, INVOCATION_NAMESPACE
from infra.specs.component_specs import RESOURCE_PREFIX, SHARED_VARIANT, ComponentSpec, deployment_config

DIMENSION = "sagemaker:inference-component:DesiredCopyCount"
INVOCATIONS_METRIC = "SageMakerInferenceComponentInvocationsPerCopy"
CONCURRENCY_METRIC = "SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution"
NO_CAPACITY_METRIC = "NoCapacityInvocationFailures"  # requests that found no copy (scale to zero)
VARIANT = SHARED_VARIANT  # the shared endpoint's one production variant
# The tag that carries a component's reason to scale to zero (the policy pack reads it in prod).
SCALE_TO_ZERO_TAG = "scale-to-zero-acknowledged"
# The stack creates these; autoscaling and modelfleet rollout change them afterwards.
OWNED_AFTER_CREATE = ["runtimeConfig", "specification"]


@dataclass
class InferenceComponentArgs:
    """One placed model (from ``component_specs``) and the endpoint it runs on."""

    spec: ComponentSpec  # container, reservation, copies, scaling, rolling update, alarms
    endpoint_name: pulumi.Input[str]  # the shared endpoint, an Output so the component waits for it
    alerts_topic_arn: pulumi.Input[str]  # where its alarms notify
    native_provider: pulumi.ProviderResource  # aws-native, pinned to the stack's region
    tags: Mapping[str, str]  # the stack's tags plus team and model


class InferenceComponent(pulumi.ComponentResource):
    """A model's copies on a shared endpoint, scaled on its own traffic and guarded by its own alarms."""

    component_name: str

    def __init__(self, name: str, args: InferenceComponentArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("modelfleet:sagemaker:InferenceComponent", name, None, opts)
        spec, child = args.spec, pulumi.ResourceOptions(parent=self)
        self.component_name = spec.component_name
        tags = dict(args.tags)
        if spec.scaling.scales_to_zero and spec.scale_to_zero_acknowledged:
            tags[SCALE_TO_ZERO_TAG] = spec.scale_to_zero_acknowledged  # a valid tag value (settings)
        alarms = ServingAlarms(
            f"{name}-alarms",
            ServingAlarmsArgs(
                dimensions={"stable": {COMPONENT_DIMENSION: spec.component_name}},
                specs=list(spec.alarms),
                topic_arn=args.alerts_topic_arn,
                tags=args.tags,
            ),
            opts=child,
        )
        requirements: dict[str, float | int] = {
            "number_of_cpu_cores_required": spec.reservation.cpu_cores,
            "min_memory_required_in_mb": spec.reservation.memory_mib,  # the API requires it
        }
        if spec.reservation.accelerators:
            requirements["number_of_accelerator_devices_required"] = spec.reservation.accelerators
        self.component = aws_native.sagemaker.InferenceComponent(
            f"{name}-component",
            endpoint_name=args.endpoint_name,
            inference_component_name=spec.component_name,
            variant_name=VARIANT,
            specification={
                "container": dict(spec.container),
                "compute_resource_requirements": requirements,
                "startup_parameters": {
                    "model_data_download_timeout_in_seconds": spec.startup_seconds,
                    "container_startup_health_check_timeout_in_seconds": spec.startup_seconds,
                },
            },
            runtime_config={"copy_count": spec.initial_copies},
            deployment_config=deployment_config(spec.rolling_update, alarms.rollback_alarm_names),
            tags=[{"key": k, "value": v} for k, v in sorted(tags.items())],
            opts=pulumi.ResourceOptions(
                parent=self, provider=args.native_provider, ignore_changes=OWNED_AFTER_CREATE
            ),
        )
        self.target = aws.appautoscaling.Target(
            f"{name}-copies",
            service_namespace="sagemaker",
            scalable_dimension=DIMENSION,
            resource_id=pulumi.Output.concat(RESOURCE_PREFIX, self.component.inference_component_name),
            min_capacity=spec.scaling.min_copies,
            max_capacity=spec.scaling.max_copies,
            tags=dict(args.tags),
            opts=child,
        )
        scoped = {
            "service_namespace": self.target.service_namespace,
            "scalable_dimension": self.target.scalable_dimension,
            "resource_id": self.target.resource_id,
        }
        trackers = [
            (suffix, metric, value)
            for suffix, metric, value in (
                ("invocations", INVOCATIONS_METRIC, spec.scaling.invocations_per_copy),
                ("concurrency", CONCURRENCY_METRIC, spec.scaling.concurrent_requests_per_copy),
            )
            if value is not None
        ]
        for suffix, metric, value in trackers:
            aws.appautoscaling.Policy(
                f"{name}-{suffix}",
                policy_type="TargetTrackingScaling",
                target_tracking_scaling_policy_configuration={
                    "target_value": value,
                    "predefined_metric_specification": {"predefined_metric_type": metric},
                    "scale_in_cooldown": spec.scaling.scale_in_cooldown_seconds,
                    "scale_out_cooldown": spec.scaling.scale_out_cooldown_seconds,
                },
                opts=child,
                **scoped,
            )
        if spec.scaling.scales_to_zero:
            self._scale_out_from_zero(name, spec, scoped, args)
        self.alarm_names = [alarm.name for alarm in alarms.alarms.values()]
        self.register_outputs(
            {
                "component_name": self.component.inference_component_name,
                "resource_id": self.target.resource_id,
                "alarm_names": self.alarm_names,
            }
        )

    def _scale_out_from_zero(
        self, name: str, spec: ComponentSpec, scoped: dict, args: InferenceComponentArgs
    ) -> None:
        """AWS's recipe: a copy a minute while requests find none (endpoint-auto-scaling-zero-instances)."""
        step = aws.appautoscaling.Policy(
            f"{name}-from-zero",
            policy_type="StepScaling",
            step_scaling_policy_configuration={
                "adjustment_type": "ChangeInCapacity",
                "metric_aggregation_type": "Maximum",
                "cooldown": 60,
                "step_adjustments": [{"metric_interval_lower_bound": "0", "scaling_adjustment": 1}],
            },
            opts=pulumi.ResourceOptions(parent=self),
            **scoped,
        )
        aws.cloudwatch.MetricAlarm(
            f"{name}-no-capacity",
            name=f"{spec.component_name}-no-capacity",
            alarm_description=f"{spec.component_name}: requests found no copy; add one (scale out from zero)",
            namespace=INVOCATION_NAMESPACE,
            metric_name=NO_CAPACITY_METRIC,
            dimensions={COMPONENT_DIMENSION: spec.component_name},
            statistic="Sum",
            period=60,
            evaluation_periods=1,
            datapoints_to_alarm=1,
            # AWS's page says GreaterThanThreshold 1; >= 1 adds a copy on the first failed request.
            comparison_operator="GreaterThanOrEqualToThreshold",
            threshold=1,
            treat_missing_data="notBreaching",
            alarm_actions=[step.arn],
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
