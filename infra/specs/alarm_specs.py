"""Which alarms a SageMaker endpoint gets, and their thresholds (pure; no Pulumi).

Thresholds come from the model's SLOs and its tier's alarm defaults, in the
units CloudWatch uses: ModelLatency is in microseconds, and CPU and GPU
utilization are summed over cores and devices (400 % is four busy vCPUs).
The latency and 5XX alarms double as the deployment guardrail's rollback alarms,
except a shadow variant's: it answers no one, so its alarms notify and never roll back.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from infra.contracts import drift
from infra.contracts.instances import InstanceType
from infra.contracts.runtimes import Runtime
from infra.settings.catalog import ModelSettings
from infra.specs import naming

INVOCATION_NAMESPACE = "AWS/SageMaker"
INSTANCE_NAMESPACE = "/aws/sagemaker/Endpoints"
# Per inference component: utilization normalized to its reservation, 0-100 (AWS's
# monitoring-cloudwatch page: dimension InferenceComponentName).
COMPONENT_NAMESPACE = "/aws/sagemaker/InferenceComponents"
COMPONENT_DIMENSION = "InferenceComponentName"
ALB_NAMESPACE = "AWS/ApplicationELB"


@dataclass(frozen=True)
class AlarmSpec:
    key: str  # e.g. "stable-p99-latency": unique within the model
    name: str  # the CloudWatch alarm name
    description: str
    variant: str
    namespace: str
    threshold: float
    comparison: str = "GreaterThanThreshold"
    period_seconds: int = 60
    evaluation_periods: int = 5
    datapoints_to_alarm: int = 3
    treat_missing_data: str = "notBreaching"
    metric_name: str | None = None
    statistic: str | None = None
    extended_statistic: str | None = None
    rate_of: tuple[str, str] | None = None  # (errors, invocations): alarm on 100 * errors / invocations
    rollback: bool = False  # a deployment guardrail rolls back when this fires


def _spec(
    environment: str, model_name: str, endpoint_name: str, variant: str, key: str, description: str, **fields
) -> AlarmSpec:
    return AlarmSpec(
        key=f"{variant}-{key}",
        name=naming.name(environment, model_name, variant, key, max_length=255),
        description=f"{endpoint_name} / {variant}: {description}",
        variant=variant,
        **fields,
    )


def invocation_alarms(spec: functools.partial[AlarmSpec], model: ModelSettings) -> list[AlarmSpec]:
    """p99 latency and 5XX rate (the rollback alarms) and 4XX rate, from ``AWS/SageMaker``'s invocations."""
    limits = model.alarms
    return [
        spec("p99-latency", f"p99 model latency above the {model.slo.p99_latency_ms} ms SLO",
             namespace=INVOCATION_NAMESPACE, metric_name="ModelLatency", extended_statistic="p99",
             threshold=model.slo.p99_latency_ms * 1000, rollback=True),
        spec("5xx-rate", f"5XX errors above {model.slo.error_rate_percent} % of invocations",
             namespace=INVOCATION_NAMESPACE, threshold=model.slo.error_rate_percent,
             rate_of=("Invocation5XXErrors", "Invocations"), rollback=True),
        spec("4xx-rate", f"4XX errors above {limits.error_4xx_rate_percent} % of invocations",
             namespace=INVOCATION_NAMESPACE, threshold=limits.error_4xx_rate_percent,
             rate_of=("Invocation4XXErrors", "Invocations")),
    ]  # fmt: skip


def serving_alarms(
    environment: str, model: ModelSettings, endpoint_name: str, instance: InstanceType | None
) -> list[AlarmSpec]:
    """Every alarm for ``model``'s endpoint, per variant; instance alarms only off serverless."""
    specs: list[AlarmSpec] = []
    limits = model.alarms
    for variant, _ in model.variants.items():
        spec = functools.partial(_spec, environment, model.name, endpoint_name, variant)
        specs += invocation_alarms(spec, model)
        if instance is not None:
            specs += [
                spec("cpu", f"CPU above {limits.cpu_utilization_percent} % of {instance.vcpus} vCPUs",
                     namespace=INSTANCE_NAMESPACE, metric_name="CPUUtilization", statistic="Average",
                     threshold=limits.cpu_utilization_percent * instance.vcpus,
                     evaluation_periods=10, datapoints_to_alarm=8),
                spec("disk", f"disk above {limits.disk_utilization_percent} %",
                     namespace=INSTANCE_NAMESPACE, metric_name="DiskUtilization", statistic="Average",
                     threshold=limits.disk_utilization_percent),
            ]  # fmt: skip
        if instance is not None and instance.gpus:
            specs += [
                spec("gpu", f"GPU above {limits.gpu_utilization_percent} % of {instance.gpus} GPUs",
                     namespace=INSTANCE_NAMESPACE, metric_name="GPUUtilization", statistic="Average",
                     threshold=limits.gpu_utilization_percent * instance.gpus,
                     evaluation_periods=10, datapoints_to_alarm=8),
                spec("gpu-memory", f"GPU memory above {limits.gpu_memory_utilization_percent} %",
                     namespace=INSTANCE_NAMESPACE, metric_name="GPUMemoryUtilization", statistic="Average",
                     threshold=limits.gpu_memory_utilization_percent * instance.gpus),
            ]  # fmt: skip
        if limits.no_invocations_minutes and variant == "stable":
            specs.append(
                spec("no-invocations", f"no invocations for {limits.no_invocations_minutes} minutes",
                     namespace=INVOCATION_NAMESPACE, metric_name="Invocations", statistic="Sum",
                     threshold=1, comparison="LessThanThreshold", period_seconds=300,
                     evaluation_periods=max(1, limits.no_invocations_minutes // 5),
                     datapoints_to_alarm=max(1, limits.no_invocations_minutes // 5),
                     treat_missing_data="breaching"),
            )  # fmt: skip
    if model.variants.shadow is not None:
        specs += shadow_alarms(environment, model, endpoint_name)
    return specs


SHADOW = "shadow"  # the shadow variant's VariantName


def shadow_alarms(environment: str, model: ModelSettings, endpoint_name: str) -> list[AlarmSpec]:
    """The shadow's p99 and 5XX against the SLO: they notify, and are never rollback alarms.

    A shadow's errors reach no caller, so rolling the endpoint back on them would undo a
    healthy production change for a version nobody is served by.
    """
    spec = functools.partial(_spec, environment, model.name, endpoint_name, SHADOW)
    return [
        spec("p99-latency", f"shadow p99 model latency above the {model.slo.p99_latency_ms} ms SLO",
             namespace=INVOCATION_NAMESPACE, metric_name="ModelLatency", extended_statistic="p99",
             threshold=model.slo.p99_latency_ms * 1000),
        spec("5xx-rate", f"shadow 5XX errors above {model.slo.error_rate_percent} % of invocations",
             namespace=INVOCATION_NAMESPACE, threshold=model.slo.error_rate_percent,
             rate_of=("Invocation5XXErrors", "Invocations")),
    ]  # fmt: skip


def component_alarms(
    environment: str, model: ModelSettings, component_name: str, gpus: bool
) -> list[AlarmSpec]:
    """Alarms for a model served as an inference component, by ``InferenceComponentName``.

    Invocation metrics are ``AWS/SageMaker``'s, filtered to the component; utilization is the
    component's own, already a percentage of what its copies reserve.
    """
    limits, variant = model.alarms, "stable"
    spec = functools.partial(_spec, environment, model.name, component_name, variant)
    specs = [
        *invocation_alarms(spec, model),
        spec("cpu", f"CPU above {limits.cpu_utilization_percent} % of the copies' reservation",
             namespace=COMPONENT_NAMESPACE, metric_name="CPUUtilizationNormalized", statistic="Average",
             threshold=limits.cpu_utilization_percent, evaluation_periods=10, datapoints_to_alarm=8),
    ]  # fmt: skip
    if gpus:
        specs += [
            spec("gpu", f"GPU above {limits.gpu_utilization_percent} % of the copies' GPUs",
                 namespace=COMPONENT_NAMESPACE, metric_name="GPUUtilizationNormalized", statistic="Average",
                 threshold=limits.gpu_utilization_percent, evaluation_periods=10, datapoints_to_alarm=8),
        ]  # fmt: skip
    if gpus and model.runtime is not Runtime.VLLM:  # vLLM claims its share of GPU memory up front
        specs.append(
            spec("gpu-memory", f"GPU memory above {limits.gpu_memory_utilization_percent} %",
                 namespace=COMPONENT_NAMESPACE, metric_name="GPUMemoryUtilizationNormalized",
                 statistic="Average", threshold=limits.gpu_memory_utilization_percent),
        )  # fmt: skip
    return specs


FLEET = "fleet"  # a shared endpoint's instances, as one alarm group (its one variant is AllTraffic)


def shared_endpoint_alarms(
    environment: str, shared: str, endpoint_name: str, instance: InstanceType
) -> list[AlarmSpec]:
    """The instances of a shared endpoint, whichever components run on them (EndpointName/VariantName).

    Per-component utilization is each component's own alarm; these watch what the components
    share: the instances' vCPUs and disk (the components' artifacts and weights are cached there).
    """
    spec = functools.partial(_spec, environment, f"shared-{shared}", endpoint_name, FLEET)
    return [
        spec("cpu", f"CPU above 80 % of {instance.vcpus} vCPUs on the shared instances",
             namespace=INSTANCE_NAMESPACE, metric_name="CPUUtilization", statistic="Average",
             threshold=80 * instance.vcpus, evaluation_periods=10, datapoints_to_alarm=8),
        spec("disk", "disk above 80 % on the shared instances",
             namespace=INSTANCE_NAMESPACE, metric_name="DiskUtilization", statistic="Average", threshold=80),
    ]  # fmt: skip


def load_balancer_alarms(environment: str, model: ModelSettings, lb_label: str) -> list[AlarmSpec]:
    """Alarms for an EKS-served model, per variant's target group behind the stack's ALB."""
    specs: list[AlarmSpec] = []
    for variant, _ in model.variants.items():
        spec = functools.partial(_spec, environment, model.name, lb_label, variant)
        specs += [
            spec("target-5xx-rate", f"target 5XX above {model.slo.error_rate_percent} % of requests",
                 namespace=ALB_NAMESPACE, threshold=model.slo.error_rate_percent,
                 rate_of=("HTTPCode_Target_5XX_Count", "RequestCount")),
            spec("p99-response-time", f"p99 target response time above the {model.slo.p99_latency_ms} ms SLO",
                 namespace=ALB_NAMESPACE, metric_name="TargetResponseTime", extended_statistic="p99",
                 threshold=model.slo.p99_latency_ms / 1000),
            spec("unhealthy-hosts", "a target is failing health checks", namespace=ALB_NAMESPACE,
                 metric_name="UnHealthyHostCount", statistic="Maximum", threshold=0),
            # With nothing registered, UnHealthyHostCount stays 0: watch for no healthy target too.
            spec("no-healthy-hosts", "no healthy target is serving", namespace=ALB_NAMESPACE,
                 metric_name="HealthyHostCount", statistic="Minimum", threshold=1,
                 comparison="LessThanThreshold",
                 treat_missing_data="breaching"),
        ]  # fmt: skip
    return specs


DRIFT = "drift"  # a model's drift alarms, as one group: their one dimension is the model


def drift_alarms(
    environment: str, model_name: str, period_seconds: int, max_drift_share: float
) -> list[AlarmSpec]:
    """A model's drift alarms: features drifted in two runs in a row, or too large a share in one.

    The job publishes once per run (``period_seconds``); a run that publishes nothing (no
    captures in the window) is missing data, which does not page.
    """
    spec = functools.partial(_spec, environment, model_name, f"{model_name} drift", DRIFT)
    return [
        spec("features", "features drifted from the baseline in 2 runs in a row",
             namespace=drift.NAMESPACE, metric_name=drift.METRIC_DRIFTED_FEATURES, statistic="Maximum",
             threshold=0, period_seconds=period_seconds, evaluation_periods=2, datapoints_to_alarm=2),
        spec("share", f"more than {max_drift_share:.0%} of the compared features drifted",
             namespace=drift.NAMESPACE, metric_name=drift.METRIC_DRIFT_SHARE, statistic="Maximum",
             threshold=max_drift_share, period_seconds=period_seconds, evaluation_periods=1,
             datapoints_to_alarm=1),
    ]  # fmt: skip
