"""Application Auto Scaling for each variant of one SageMaker endpoint.

Target tracking on invocations per instance (and, when configured, on
concurrent requests per model), plus scheduled actions that shrink non-prod
endpoints outside working hours and restore them in the morning.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.specs.sagemaker_specs import ScalingPolicy

DIMENSION = "sagemaker:variant:DesiredInstanceCount"
INVOCATIONS_METRIC = "SageMakerVariantInvocationsPerInstance"
CONCURRENCY_METRIC = "SageMakerVariantConcurrentRequestsPerModelHighResolution"


@dataclass
class EndpointAutoscalingArgs:
    """Which endpoint to scale, and how (the policy is plain data from ``sagemaker_specs``)."""

    endpoint_name: pulumi.Input[str]  # an Output of the endpoint, so targets wait for it to exist
    policy: ScalingPolicy  # per-variant bounds, target tracking and the off-hours schedule
    tags: Mapping[str, str]  # the stack's and model's tags, on every scalable target


class EndpointAutoscaling(pulumi.ComponentResource):
    """Keeps each variant's instance count matched to its traffic, and shrinks idle non-prod endpoints."""

    targets: dict[str, aws.appautoscaling.Target]

    def __init__(self, name: str, args: EndpointAutoscalingArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("modelfleet:sagemaker:EndpointAutoscaling", name, None, opts)
        self.targets = {}
        policy = args.policy
        for scaling in policy.variants:
            variant = scaling.variant
            child = pulumi.ResourceOptions(parent=self)
            target = aws.appautoscaling.Target(
                f"{name}-{variant}",
                service_namespace="sagemaker",
                scalable_dimension=DIMENSION,
                resource_id=pulumi.Output.concat("endpoint/", args.endpoint_name, "/variant/", variant),
                min_capacity=scaling.min_instances,
                max_capacity=scaling.max_instances,
                tags=dict(args.tags),
                opts=child,
            )
            self.targets[variant] = target
            scoped = {
                "service_namespace": target.service_namespace,
                "scalable_dimension": target.scalable_dimension,
                "resource_id": target.resource_id,
            }
            trackers = [("invocations", INVOCATIONS_METRIC, policy.invocations_per_instance_per_minute)]
            if policy.concurrency_target is not None:
                trackers.append(("concurrency", CONCURRENCY_METRIC, policy.concurrency_target))
            for suffix, metric, target_value in trackers:
                aws.appautoscaling.Policy(
                    f"{name}-{variant}-{suffix}",
                    policy_type="TargetTrackingScaling",  # explicit: the provider's default is step scaling
                    target_tracking_scaling_policy_configuration={
                        "target_value": target_value,
                        "predefined_metric_specification": {"predefined_metric_type": metric},
                        "scale_in_cooldown": policy.scale_in_cooldown_seconds,
                        "scale_out_cooldown": policy.scale_out_cooldown_seconds,
                    },
                    opts=child,
                    **scoped,
                )
            if policy.off_hours is not None:
                low = min(policy.off_hours_instances, scaling.max_instances)
                for action, schedule, bounds in (
                    ("off-hours", policy.off_hours.scale_down, (low, low)),
                    (
                        "working-hours",
                        policy.off_hours.scale_up,
                        (scaling.min_instances, scaling.max_instances),
                    ),
                ):
                    aws.appautoscaling.ScheduledAction(
                        f"{name}-{variant}-{action}",
                        schedule=schedule,
                        timezone=policy.off_hours.timezone,
                        scalable_target_action={"min_capacity": bounds[0], "max_capacity": bounds[1]},
                        opts=child,
                        **scoped,
                    )
        self.register_outputs({"resource_ids": {v: t.resource_id for v, t in self.targets.items()}})
