"""Load-test arithmetic: percentiles, the SLO check, and the autoscaling target (pure).

SageMaker's target tracking on ``SageMakerVariantInvocationsPerInstance`` wants
invocations per instance per minute at which an instance is still comfortably
inside its SLO; headroom covers the minutes autoscaling takes to add capacity.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class StepResult:
    offered_rate: float  # requests per second, as scheduled
    sent: int
    succeeded: int
    elapsed_seconds: float
    p50_ms: float | None
    p99_ms: float | None

    @property
    def failed(self) -> int:
        return self.sent - self.succeeded

    @property
    def throughput(self) -> float:
        return self.succeeded / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0

    @property
    def error_rate_percent(self) -> float:
        return 100.0 * self.failed / self.sent if self.sent else 0.0


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile: the smallest value with ``fraction`` of values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def summarize(offered_rate: float, latencies_ms: Sequence[float], sent: int, elapsed: float) -> StepResult:
    """Latencies are of successful requests only; failures count against the error rate."""
    return StepResult(
        offered_rate, sent, len(latencies_ms), elapsed, percentile(latencies_ms, 0.5),
        percentile(latencies_ms, 0.99),
    )  # fmt: skip


def meets_slo(step: StepResult, p99_ms: float, max_error_rate_percent: float) -> bool:
    return (
        step.sent > 0
        and step.p99_ms is not None
        and step.p99_ms <= p99_ms
        and step.error_rate_percent <= max_error_rate_percent
    )


def rate_at_slo(steps: Sequence[StepResult], p99_ms: float, max_error_rate_percent: float) -> float | None:
    """The highest offered rate inside the SLO, counting only rates below the first that failed."""
    passed = None
    for step in sorted(steps, key=lambda s: s.offered_rate):
        if not meets_slo(step, p99_ms, max_error_rate_percent):
            break
        passed = step.offered_rate
    return passed


def recommend_target(rate_per_instance_per_second: float, headroom: float) -> int:
    """``floor(rate * 60 * (1 - headroom))`` invocations per instance per minute, at least 1."""
    if not 0 <= headroom < 1:
        raise ValueError(f"headroom is a fraction from 0 to below 1 (got {headroom})")
    return max(1, math.floor(rate_per_instance_per_second * 60 * (1 - headroom)))


def rate_schedule(start: float, factor: float, max_rate: float, max_steps: int = 20) -> list[float]:
    """Rates to try, geometric from ``start`` up to ``max_rate`` (included), bounded in count."""
    if start <= 0 or factor <= 1 or max_rate < start:
        raise ValueError("rates need 0 < start <= max and a factor above 1")
    rates = [start]
    while len(rates) < max_steps and rates[-1] < max_rate:
        rates.append(min(max_rate, rates[-1] * factor))
    return rates
