"""A CloudWatch dashboard per model: traffic, errors, latency and capacity per variant."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.contracts import drift as contract
from infra.specs.alarm_specs import (
    COMPONENT_DIMENSION,
    COMPONENT_NAMESPACE,
    INSTANCE_NAMESPACE,
    INVOCATION_NAMESPACE,
)
from infra.specs.component_specs import SHARED_VARIANT
from infra.specs.model_record import dashboard_url


def metric_widget(
    region: str,
    title: str,
    metrics: list,
    *,
    x: int,
    y: int,
    width: int,
    period: int = 60,
    annotations: dict | None = None,
) -> dict[str, Any]:
    """One time-series widget in CloudWatch's dashboard JSON, 6 units high."""
    properties: dict[str, Any] = {
        "title": title,
        "region": region,
        "view": "timeSeries",
        "period": period,
        "metrics": metrics,
    }
    if annotations:
        properties["annotations"] = annotations
    return {"type": "metric", "x": x, "y": y, "width": width, "height": 6, "properties": properties}


def dashboard_body(
    region: str,
    endpoint_name: str,
    variants: Sequence[str],
    p99_slo_ms: int,
    gpus: bool,
    instances: bool,
    drift: DriftWidgets | None = None,
) -> dict[str, Any]:
    """The dashboard as CloudWatch's JSON (pure, so tests can read every widget)."""

    def series(namespace: str, metric: str, stat: str) -> list[list[Any]]:
        return [
            [namespace, metric, "EndpointName", endpoint_name, "VariantName", v, {"stat": stat, "label": v}]
            for v in variants
        ]

    def widget(title: str, metrics: list, y: int, x: int, annotations: dict | None = None) -> dict:
        return metric_widget(region, title, metrics, x=x, y=y, width=12, annotations=annotations)

    widgets = [
        widget("Invocations per variant", series(INVOCATION_NAMESPACE, "Invocations", "Sum"), 0, 0),
        widget(
            "Errors per variant (4XX, 5XX)",
            series(INVOCATION_NAMESPACE, "Invocation4XXErrors", "Sum")
            + series(INVOCATION_NAMESPACE, "Invocation5XXErrors", "Sum"),
            0,
            12,
        ),
        widget(
            "Model latency p50 / p99 (microseconds)",
            series(INVOCATION_NAMESPACE, "ModelLatency", "p50")
            + series(INVOCATION_NAMESPACE, "ModelLatency", "p99"),
            6,
            0,
            {"horizontal": [{"label": "p99 SLO", "value": p99_slo_ms * 1000}]},
        ),
    ]
    if instances:
        utilization = series(INSTANCE_NAMESPACE, "CPUUtilization", "Average")
        if gpus:
            utilization += series(INSTANCE_NAMESPACE, "GPUUtilization", "Average")
            utilization += series(INSTANCE_NAMESPACE, "GPUMemoryUtilization", "Average")
        widgets += [
            # No metric counts instances, but each one reports CPUUtilization once a
            # minute, so the one-minute sample count is the instance count.
            widget(
                "Instances per variant", series(INSTANCE_NAMESPACE, "CPUUtilization", "SampleCount"), 6, 12
            ),
            widget("Utilization (% summed over cores / GPUs)", utilization, 12, 0),
            widget("Disk utilization %", series(INSTANCE_NAMESPACE, "DiskUtilization", "Average"), 12, 12),
        ]
    if drift is not None:
        widgets += drift_row(region, drift, y=18)
    return {"widgets": widgets}


@dataclass(frozen=True)
class DriftWidgets:
    """A model's drift metrics (``infra.contracts.drift``), one point per run of its job."""

    model_name: str  # the metrics' Model dimension
    features: Sequence[str]  # one FeaturePSI series each
    period_seconds: int  # one run per period: the widgets' period


def drift_row(region: str, drift: DriftWidgets, y: int) -> list[dict[str, Any]]:
    """Drifted features and their share, and each feature's PSI, from the drift job's runs."""
    model = [contract.DIMENSION_MODEL, drift.model_name]

    def widget(title: str, metrics: list, x: int, annotations: dict | None = None) -> dict:
        return metric_widget(
            region, title, metrics, x=x, y=y, width=8, period=drift.period_seconds, annotations=annotations
        )

    def metric(name: str, label: str, *dimensions: str) -> list[Any]:
        return [contract.NAMESPACE, name, *model, *dimensions, {"stat": "Maximum", "label": label}]

    return [
        widget(
            "Drift: features drifted",
            [metric(contract.METRIC_DRIFTED_FEATURES, "drifted features")],
            0,
        ),
        widget(
            "Drift: share of features drifted, and rows compared",
            [
                metric(contract.METRIC_DRIFT_SHARE, "share drifted"),
                [
                    *metric(contract.METRIC_ROWS, "rows compared")[:-1],
                    {"stat": "Maximum", "label": "rows compared", "yAxis": "right"},
                ],
            ],
            8,
        ),
        widget(
            "Drift: PSI per feature",
            [metric(contract.METRIC_FEATURE_PSI, f, contract.DIMENSION_FEATURE, f) for f in drift.features],
            16,
        ),
    ]


@dataclass
class ModelDashboardArgs:
    """Which endpoint's metrics to draw, per which variants, and which widgets apply to it."""

    dashboard_name: str  # the CloudWatch dashboard's name: model_record.dashboard_name, up to 255 characters
    region: str  # the region the widgets read metrics from and the console URL points at
    endpoint_name: str  # the SageMaker endpoint whose EndpointName dimension every series uses
    variants: Sequence[str]  # production variant names: one series per variant in every widget
    p99_slo_ms: int  # milliseconds; drawn as a line on the latency widget (which is in microseconds)
    gpus: bool  # add GPU and GPU memory utilization to the utilization widget
    instances: bool  # False for serverless endpoints: no instance count, utilization or disk widgets
    drift: DriftWidgets | None = None  # the model's drift metrics, when the stack schedules its drift job


class ModelDashboard(pulumi.ComponentResource):
    """One place to see a SageMaker model's traffic, errors, latency against its SLO, and capacity."""

    url: str

    def __init__(self, name: str, args: ModelDashboardArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("modelfleet:observability:ModelDashboard", name, None, opts)
        body = dashboard_body(
            args.region,
            args.endpoint_name,
            args.variants,
            args.p99_slo_ms,
            args.gpus,
            args.instances,
            args.drift,
        )
        self.dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            dashboard_name=args.dashboard_name,
            dashboard_body=json.dumps(body),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.url = dashboard_url(args.region, args.dashboard_name)
        self.register_outputs({"url": self.url})


def shared_endpoint_body(
    region: str, endpoint_name: str, components: Sequence[tuple[str, int]], gpus: bool
) -> dict[str, Any]:
    """A shared endpoint's dashboard: its instances first, then one row per component (name, p99 SLO ms).

    Invocation metrics are filtered by ``InferenceComponentName``; utilization per component is
    normalized to its reservation (``/aws/sagemaker/InferenceComponents``).
    """

    def widget(title: str, metrics: list, y: int, x: int, annotations: dict | None = None) -> dict:
        return metric_widget(region, title, metrics, x=x, y=y, width=8, annotations=annotations)

    fleet = [
        INSTANCE_NAMESPACE,
        "CPUUtilization",
        "EndpointName",
        endpoint_name,
        "VariantName",
        SHARED_VARIANT,
    ]
    utilization = [[*fleet, {"stat": "Average", "label": "CPU"}]]
    if gpus:
        utilization.append([*fleet[:1], "GPUUtilization", *fleet[2:], {"stat": "Average", "label": "GPU"}])
        utilization.append(
            [*fleet[:1], "GPUMemoryUtilization", *fleet[2:], {"stat": "Average", "label": "GPU memory"}]
        )
    widgets = [
        widget(
            f"{endpoint_name}: instances", [[*fleet, {"stat": "SampleCount", "label": "instances"}]], 0, 0
        ),
        widget(f"{endpoint_name}: utilization (% summed over cores / GPUs)", utilization, 0, 8),
        widget(
            f"{endpoint_name}: disk %",
            [[*fleet[:1], "DiskUtilization", *fleet[2:], {"stat": "Average", "label": "disk"}]],
            0,
            16,
        ),
    ]
    for row, (component, slo_ms) in enumerate(components, start=1):
        y = row * 6

        def metric(namespace: str, name: str, stat: str, label: str, c: str = component) -> list[Any]:
            return [namespace, name, COMPONENT_DIMENSION, c, {"stat": stat, "label": label}]

        widgets += [
            widget(
                f"{component}: invocations and errors",
                [
                    metric(INVOCATION_NAMESPACE, "Invocations", "Sum", "invocations"),
                    metric(INVOCATION_NAMESPACE, "Invocation4XXErrors", "Sum", "4XX"),
                    metric(INVOCATION_NAMESPACE, "Invocation5XXErrors", "Sum", "5XX"),
                ],
                y,
                0,
            ),
            widget(
                f"{component}: model latency p50 / p99 (microseconds)",
                [
                    metric(INVOCATION_NAMESPACE, "ModelLatency", "p50", "p50"),
                    metric(INVOCATION_NAMESPACE, "ModelLatency", "p99", "p99"),
                ],
                y,
                8,
                {"horizontal": [{"label": "p99 SLO", "value": slo_ms * 1000}]},
            ),
            widget(
                f"{component}: % of its reservation",
                [
                    metric(COMPONENT_NAMESPACE, "CPUUtilizationNormalized", "Average", "CPU"),
                    metric(COMPONENT_NAMESPACE, "MemoryUtilizationNormalized", "Average", "memory"),
                    *(
                        [
                            metric(COMPONENT_NAMESPACE, "GPUUtilizationNormalized", "Average", "GPU"),
                            metric(
                                COMPONENT_NAMESPACE, "GPUMemoryUtilizationNormalized", "Average", "GPU memory"
                            ),
                        ]
                        if gpus
                        else []
                    ),
                ],
                y,
                16,
            ),
        ]
    return {"widgets": widgets}
