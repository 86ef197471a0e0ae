"""CloudWatch alarms for one endpoint, declared from ``alarm_specs``.

Dimensions are given per variant, as plain values or as Outputs of the
resources they watch, never computed inside ``apply()``: previews and policy
checks then see exactly what each alarm watches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.specs.alarm_specs import AlarmSpec


@dataclass
class ServingAlarmsArgs:
    """What to alarm on (specs from alarm_specs), what each variant's metrics are called, whom to tell."""

    # Per variant, the metric dimensions: e.g. EndpointName/VariantName for SageMaker,
    # LoadBalancer/TargetGroup (Outputs of the stack's own resources) for an ALB.
    dimensions: Mapping[str, Mapping[str, pulumi.Input[str]]]
    specs: Sequence[AlarmSpec]  # one alarm each; a spec's variant must be a key of dimensions
    topic_arn: pulumi.Input[str]  # ARN of the SNS topic told when an alarm fires and when it clears
    tags: Mapping[str, str]  # the stack's tags (plus team and model), on every alarm


def _rate_queries(spec: AlarmSpec, dimensions: dict[str, pulumi.Input[str]]) -> list[dict]:
    errors, invocations = spec.rate_of or ("", "")

    def metric(query_id: str, metric_name: str) -> dict:
        return {
            "id": query_id,
            "return_data": False,
            "metric": {
                "namespace": spec.namespace,
                "metric_name": metric_name,
                "dimensions": dimensions,
                "period": spec.period_seconds,
                "stat": "Sum",
            },
        }

    return [
        metric("errors", errors),
        metric("invocations", invocations),
        {
            "id": "rate",
            "label": f"{errors} per 100 {invocations}",
            "expression": "IF(invocations > 0, 100 * errors / invocations, 0)",
            "return_data": True,
        },
    ]


class ServingAlarms(pulumi.ComponentResource):
    """One model's alarms, with dimensions previews can show; some also guard its deployments."""

    alarms: dict[str, aws.cloudwatch.MetricAlarm]

    def __init__(self, name: str, args: ServingAlarmsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("modelfleet:observability:ServingAlarms", name, None, opts)
        self.alarms = {}
        for spec in args.specs:
            dimensions = dict(args.dimensions[spec.variant])
            metric: dict = (
                {"metric_queries": _rate_queries(spec, dimensions)}
                if spec.rate_of
                else {
                    "namespace": spec.namespace,
                    "metric_name": spec.metric_name,
                    "dimensions": dimensions,
                    "period": spec.period_seconds,
                    "statistic": spec.statistic,
                    "extended_statistic": spec.extended_statistic,
                }
            )
            self.alarms[spec.key] = aws.cloudwatch.MetricAlarm(
                f"{name}-{spec.key}",
                name=spec.name,
                alarm_description=spec.description,
                comparison_operator=spec.comparison,
                threshold=spec.threshold,
                evaluation_periods=spec.evaluation_periods,
                datapoints_to_alarm=spec.datapoints_to_alarm,
                treat_missing_data=spec.treat_missing_data,
                alarm_actions=[args.topic_arn],
                ok_actions=[args.topic_arn],
                tags=dict(args.tags),
                opts=pulumi.ResourceOptions(parent=self),
                **metric,
            )
        self.rollback_alarm_names = [self.alarms[s.key].name for s in args.specs if s.rollback]
        self.register_outputs({"alarm_names": [a.name for a in self.alarms.values()]})
