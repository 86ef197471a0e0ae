"""What a SageMaker endpoint is made of, as plain data (no Pulumi; tested without mocks).

``endpoint_spec`` decides, from one catalog entry, everything the endpoint
component builds: variants and their containers, capacity, the alarms, the
blue/green guardrail, autoscaling and the dashboard. The component itself never
sees the settings, so it can be built and tested from plain values. Also here:
the guardrail in aws-native's shape, which properties an update keeps, and the
artifact and image ARNs a model's execution role may read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from infra.contracts import instances, serving
from infra.contracts.runtimes import Runtime
from infra.settings.catalog import ModelSettings, SageMakerModel
from infra.settings.drift import SCHEDULE_PERIOD_HOURS
from infra.specs import alarm_specs, capacity, iam, images, naming
from infra.specs.alarm_specs import AlarmSpec
from infra.specs.schedules import OffHoursSchedule, off_hours_schedule

# Autoscaling owns instance counts; weights and capture settings come from the stack.
EXCLUDED_FROM_RETENTION = ("DesiredWeight", "DataCaptureConfig")
CAPTURE_CONTENT_TYPES = {
    "json_content_types": list(serving.CAPTURE_JSON_CONTENT_TYPES),
    "csv_content_types": list(serving.CAPTURE_CSV_CONTENT_TYPES),
}


@dataclass(frozen=True)
class Guardrail:
    """How ``UpdateEndpoint`` shifts traffic to a new fleet, and how long it keeps the old one."""

    strategy: str  # canary, linear or all_at_once: SageMaker's TrafficRoutingConfig types, lower case
    step_percent: int  # the canary's or each linear step's share of capacity, percent
    wait_seconds: int  # bake time between shifts, watching the rollback alarms
    termination_wait_seconds: int  # the old fleet is kept this long after the last shift, for rollback
    max_execution_timeout_seconds: int  # the whole deployment's limit; SageMaker rolls back past it


def deployment_config(deployment: Guardrail, rollback_alarms: Sequence[Any]) -> dict[str, Any]:
    """The blue/green guardrail in aws-native's shape (pure apart from alarm name Outputs)."""
    routing: dict[str, Any] = {
        "type": deployment.strategy.upper(),
        "wait_interval_in_seconds": deployment.wait_seconds,
    }
    step = {"type": "CAPACITY_PERCENT", "value": deployment.step_percent}
    if deployment.strategy == "canary":
        routing["canary_size"] = step
    elif deployment.strategy == "linear":
        routing["linear_step_size"] = step
    return {
        "blue_green_update_policy": {
            "traffic_routing_configuration": routing,
            "termination_wait_in_seconds": deployment.termination_wait_seconds,
            "maximum_execution_timeout_in_seconds": deployment.max_execution_timeout_seconds,
        },
        "auto_rollback_configuration": {"alarms": [{"alarm_name": name} for name in rollback_alarms]},
    }


def repository_arns(model: ModelSettings, partition: str) -> list[str]:
    uris = [model.image_uri, *(v.image for _, v in model.variants.with_shadow())]
    if model.registry_access:
        uris.append(model.registry_access.image_repository)
    parsed = [images.parse_ecr(uri) for uri in uris if uri]
    return sorted({image.repository_arn(partition) for image in parsed if image})


def artifact_arns(model: ModelSettings, partition: str) -> list[str]:
    uris = [v.model_data for _, v in model.variants.with_shadow() if v.model_data]
    if model.registry_access:
        uris.append(model.registry_access.artifact_s3_prefix.rstrip("/") + "/")
    return sorted({iam.s3_object_arn(uri, partition) for uri in uris})


@dataclass(frozen=True)
class EndpointVariant:
    """One production variant: what it serves and its share of traffic."""

    name: str  # stable, canary or shadow: the VariantName the day-2 tools address
    weight: int  # its share of traffic (a shadow's: percent of requests copied); weights are relative
    instance_count: int  # instances at creation; autoscaling owns the count afterwards
    container: Mapping[str, Any]  # the Model's primary container: image and model data, or a model package


@dataclass(frozen=True)
class ServerlessCapacity:
    """A serverless endpoint's size: SageMaker then runs no instances of ours."""

    memory_mb: int  # per invocation: 1024-6144 in 1 GiB steps
    max_concurrency: int  # concurrent invocations before SageMaker throttles


@dataclass(frozen=True)
class VariantScaling:
    """One variant's instance bounds for Application Auto Scaling."""

    variant: str  # the production variant it scales
    min_instances: int  # the scalable target's MinCapacity
    max_instances: int  # its MaxCapacity


@dataclass(frozen=True)
class ScalingPolicy:
    """Target tracking per variant, and the off-hours schedule of a non-prod endpoint."""

    variants: tuple[VariantScaling, ...]  # the variants that scale; a small canary stays fixed
    invocations_per_instance_per_minute: int  # SageMakerVariantInvocationsPerInstance target
    scale_in_cooldown_seconds: int  # wait after scaling in before the next
    scale_out_cooldown_seconds: int  # wait after scaling out before the next
    concurrency_target: float | None = None  # a second tracker on concurrent requests per model
    off_hours: OffHoursSchedule | None = None  # when to shrink and restore, as cron in a time zone
    off_hours_instances: int = 1  # the size outside working hours (never above a variant's maximum)


@dataclass(frozen=True)
class EndpointSpec:
    """One SageMaker model as its endpoint component builds it: plain values, decided from the settings."""

    model_name: str  # the catalog name: tags, log and capture prefixes
    team: str  # the owning team's tag
    endpoint_name: str  # the physical endpoint name the day-2 tools and alarms use
    variants: tuple[EndpointVariant, ...]  # stable first
    environment: Mapping[str, str]  # the container's environment variables
    instance_type: str | None  # e.g. ml.g5.xlarge; None when serverless
    serverless: ServerlessCapacity | None  # set instead of instances
    encrypt_volume: bool  # False on instance-store types: SageMaker refuses a volume key for them
    gpus: bool  # the instance has GPUs: GPU alarms and dashboard widgets
    network_isolation: bool  # the container gets no network (off when serverless: AWS refuses it)
    capture_percent: int  # share of requests captured to S3; 0 is off
    artifact_arns: tuple[str, ...]  # S3 objects the execution role may read
    repository_arns: tuple[str, ...]  # ECR repositories it may pull from
    alarms: tuple[AlarmSpec, ...]  # every serving alarm, the guardrail's rollback alarms among them
    guardrail: Guardrail | None  # blue/green updates; None when serverless (AWS offers none)
    scaling: ScalingPolicy | None  # None when serverless
    dashboard_name: str  # the CloudWatch dashboard's name
    p99_slo_ms: int  # the latency objective drawn on the dashboard
    drift_features: tuple[str, ...] = ()  # drift on: the features the dashboard's drift row draws
    drift_period_seconds: int = 0  # drift on: one run of the job per period
    # A copy of live traffic to a new version, answering no one (ShadowProductionVariants). Its
    # InitialVariantWeight over the one production variant's (100) is the share copied. It has
    # no scaling target: it stays at its instance_count.
    shadow: EndpointVariant | None = None


def container_environment(model: SageMakerModel) -> dict[str, str]:
    """The serving container's environment: our server's queue deadline when it runs our image, then the
    model's own variables (which win). A Deep Learning Container or a model package brings another server."""
    ours = model.runtime is Runtime.MODELFLEET and model.image is not None
    deadline = {serving.ENV_QUEUE_DEADLINE_MS: str(serving.queue_deadline_ms(model.slo.p99_latency_ms))}
    return (deadline if ours else {}) | dict(model.environment)


def _variant(model: SageMakerModel, name: str, variant: Any) -> EndpointVariant:
    if variant.model_package_arn:
        container: dict[str, Any] = {
            "environment": dict(model.environment),
            "model_package_name": variant.model_package_arn,
        }
    else:
        container = {"environment": container_environment(model), "image": variant.image or model.image_uri,
                     "model_data_url": variant.model_data}  # fmt: skip
    return EndpointVariant(name, variant.weight, variant.instance_count, container)


def _scaling(model: SageMakerModel) -> ScalingPolicy | None:
    scaling = model.autoscaling
    if scaling is None or scaling.target_invocations_per_instance_per_minute is None:
        return None  # serverless (settings require both otherwise)
    bounds = [VariantScaling("stable", scaling.min_instances, scaling.max_instances)]
    canary = model.variants.canary
    if canary and capacity.canary_scales(canary.weight):
        bounds.append(VariantScaling("canary", canary.instance_count, scaling.max_instances))
    return ScalingPolicy(
        variants=tuple(bounds),
        invocations_per_instance_per_minute=scaling.target_invocations_per_instance_per_minute,
        scale_in_cooldown_seconds=scaling.scale_in_cooldown_seconds,
        scale_out_cooldown_seconds=scaling.scale_out_cooldown_seconds,
        concurrency_target=scaling.concurrency_target,
        off_hours=off_hours_schedule(model.off_hours) if model.off_hours else None,
        off_hours_instances=model.off_hours.instances if model.off_hours else 1,
    )


def endpoint_spec(environment: str, region: str, model: SageMakerModel) -> EndpointSpec:
    """Everything ``SageMakerModelEndpoint`` builds for ``model``, decided here once."""
    instance = instances.lookup(model.instance_type) if model.instance_type else None
    partition = iam.partition_for(region)
    endpoint = naming.endpoint(environment, model.name)
    deployment = model.deployment
    return EndpointSpec(
        model_name=model.name,
        team=model.team,
        endpoint_name=endpoint,
        variants=tuple(_variant(model, name, v) for name, v in model.variants.items()),
        environment=container_environment(model),
        instance_type=model.instance_type,
        serverless=ServerlessCapacity(model.serverless.memory_mb, model.serverless.max_concurrency)
        if model.serverless
        else None,
        encrypt_volume=bool(instance and not instance.local_storage),
        gpus=bool(instance and instance.gpus),
        network_isolation=model.network_isolation and model.serverless is None,
        capture_percent=model.data_capture.sampling_percent,
        artifact_arns=tuple(artifact_arns(model, partition)),
        repository_arns=tuple(repository_arns(model, partition)),
        alarms=tuple(alarm_specs.serving_alarms(environment, model, endpoint, instance)),
        guardrail=None
        if model.serverless
        else Guardrail(
            strategy=deployment.strategy,
            step_percent=deployment.step_percent,
            wait_seconds=deployment.wait_seconds,
            termination_wait_seconds=deployment.termination_wait_seconds,
            max_execution_timeout_seconds=deployment.max_execution_timeout_seconds,
        ),
        scaling=_scaling(model),
        dashboard_name=naming.dashboard(environment, model.name),
        p99_slo_ms=model.slo.p99_latency_ms,
        drift_features=tuple(model.drift.features) if model.drift and model.drift_on else (),
        drift_period_seconds=SCHEDULE_PERIOD_HOURS[model.drift.schedule] * 3600
        if model.drift and model.drift_on
        else 0,
        shadow=_variant(model, "shadow", model.variants.shadow) if model.variants.shadow else None,
    )
