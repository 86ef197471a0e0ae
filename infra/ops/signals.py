"""What CloudWatch says about an endpoint's variants or an inference component: alarms and metrics.

Metrics are read in one ``GetMetricData`` call whose single period spans the
whole window, so p99 is CloudWatch's percentile over every request in it,
never an average of per-minute percentiles.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from infra.ops.gates import VariantMetrics
from infra.specs.alarm_specs import COMPONENT_DIMENSION, INVOCATION_NAMESPACE

ALARM_BATCH = 100  # DescribeAlarms takes at most 100 names


def alarm_states(cloudwatch: Any, names: Sequence[str]) -> tuple[list[str], list[str]]:
    """(alarms in ALARM, alarms that do not exist) among ``names``."""
    states: dict[str, str] = {}
    for first in range(0, len(names), ALARM_BATCH):
        batch = list(names[first : first + ALARM_BATCH])
        pages = cloudwatch.get_paginator("describe_alarms").paginate(
            AlarmNames=batch, AlarmTypes=["MetricAlarm", "CompositeAlarm"]
        )
        for page in pages:
            for alarm in page.get("MetricAlarms", []) + page.get("CompositeAlarms", []):
                states[alarm["AlarmName"]] = alarm["StateValue"]
    firing = [n for n in names if states.get(n) == "ALARM"]
    return firing, [n for n in names if n not in states]


def window(start: float, end: float) -> tuple[datetime, datetime, int]:
    """Whole minutes covering [start, end] and the one period spanning them."""
    first = math.floor(start / 60) * 60
    last = max(math.ceil(end / 60) * 60, first + 60)
    return datetime.fromtimestamp(first, UTC), datetime.fromtimestamp(last, UTC), int(last - first)


def query(
    query_id: str,
    dimensions: list[dict[str, str]],
    metric: str,
    stat: str,
    period: int,
    namespace: str = INVOCATION_NAMESPACE,
) -> dict:
    """One ``GetMetricData`` query: ``stat`` of ``metric`` over ``period`` seconds."""
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {"Namespace": namespace, "MetricName": metric, "Dimensions": dimensions},
            "Period": period,
            "Stat": stat,
        },
    }


def variant_metrics(
    cloudwatch: Any, endpoint: str, variants: Sequence[str], start: float, end: float
) -> dict[str, VariantMetrics]:
    """Invocations, 5XX errors and p99 ModelLatency per variant over [start, end]."""
    scopes = [
        [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": variant}]
        for variant in variants
    ]
    found = _metrics(cloudwatch, scopes, start, end)
    return dict(zip(variants, found, strict=True))


def component_metrics(cloudwatch: Any, component: str, start: float, end: float) -> VariantMetrics:
    """Invocations, 5XX errors and p99 ModelLatency of one inference component over [start, end]."""
    return _metrics(cloudwatch, [[{"Name": COMPONENT_DIMENSION, "Value": component}]], start, end)[0]


def _metrics(
    cloudwatch: Any, scopes: Sequence[list[dict[str, str]]], start: float, end: float
) -> list[VariantMetrics]:
    """One ``GetMetricData`` for every scope (a list of dimensions), one period over the window."""
    first, last, period = window(start, end)
    queries = []
    for index, dimensions in enumerate(scopes):
        queries += [
            query(f"inv{index}", dimensions, "Invocations", "Sum", period),
            query(f"err{index}", dimensions, "Invocation5XXErrors", "Sum", period),
            query(f"lat{index}", dimensions, "ModelLatency", "p99", period),
        ]
    values = metric_values(cloudwatch, queries, first, last)
    found = []
    for index in range(len(scopes)):
        latencies = values.get(f"lat{index}", [])
        found.append(
            VariantMetrics(
                invocations=sum(values.get(f"inv{index}", [])),
                errors_5xx=sum(values.get(f"err{index}", [])),
                # ModelLatency is in microseconds; the worst period counts if the window spans several.
                p99_latency_ms=max(latencies) / 1000 if latencies else None,
            )
        )
    return found


def metric_values(
    cloudwatch: Any, queries: list[dict], first: datetime, last: datetime
) -> dict[str, list[float]]:
    """Every query's values by its ``Id``, over [first, last], following ``NextToken``."""
    values: dict[str, list[float]] = {}
    token = None
    for _ in range(20):  # bounded: a handful of queries never needs many pages
        paging = {"NextToken": token} if token else {}
        page = cloudwatch.get_metric_data(MetricDataQueries=queries, StartTime=first, EndTime=last, **paging)
        for result in page["MetricDataResults"]:
            values.setdefault(result["Id"], []).extend(result.get("Values", []))
        token = page.get("NextToken")
        if not token:
            break
    return values


def force_alarm(cloudwatch: Any, name: str, reason: str) -> None:
    """``SetAlarmState`` to ALARM until CloudWatch next evaluates it: what a rolling update rolls back on."""
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason=reason[:1023])
