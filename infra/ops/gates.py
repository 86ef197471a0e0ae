"""Whether a canary may keep its traffic: alarms and a comparison with stable (pure).

The canary is judged against the stable variant over the same minutes rather
than against fixed thresholds alone, so a regression shows even while both
variants are still inside the SLO. Alarms always count. Metric gates need
``min_invocations`` canary requests to mean something: with fewer, the verdict
is ``NOT_JUDGED``, never healthy, and the rollout decides how long to wait.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

from infra.settings.catalog import RolloutSettings


@dataclass(frozen=True)
class VariantMetrics:
    invocations: float = 0.0
    errors_5xx: float = 0.0
    p99_latency_ms: float | None = None  # None: no datapoint yet

    @property
    def error_rate_percent(self) -> float:
        return 100.0 * self.errors_5xx / self.invocations if self.invocations > 0 else 0.0


class Verdict(Enum):
    HEALTHY = "ok"
    UNHEALTHY = "UNHEALTHY"
    NOT_JUDGED = "not judged"  # too little canary traffic to compare with stable


@dataclass(frozen=True)
class GateDecision:
    verdict: Verdict
    reasons: list[str] = field(default_factory=list)  # why it is unhealthy, or why it cannot be judged
    notes: list[str] = field(default_factory=list)  # what was left out of a verdict

    @property
    def healthy(self) -> bool:
        return self.verdict is Verdict.HEALTHY

    def summary(self) -> str:
        return "; ".join(self.reasons or self.notes) or "all gates pass"


def alarm_reasons(firing: Sequence[str], missing: Sequence[str] = ()) -> list[str]:
    """Why alarms keep the canary from being judged: each one in ALARM, and how many do not exist."""
    reasons = [f"alarm {name} is in ALARM" for name in firing]
    if missing:
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        reasons.append(f"{len(missing)} alarm(s) not found ({missing[0]}{more}): is the stack deployed?")
    return reasons


def evaluate(
    alarms_firing: Sequence[str],
    stable: VariantMetrics,
    canary: VariantMetrics,
    settings: RolloutSettings,
    alarms_missing: Sequence[str] = (),
) -> GateDecision:
    """Healthy unless an alarm fires or is gone, or the canary is worse than stable beyond the margins."""
    reasons = alarm_reasons(alarms_firing, alarms_missing)
    notes: list[str] = []
    if canary.invocations < settings.min_invocations:
        quiet = (
            f"not enough canary traffic to judge: {canary.invocations:.0f} of "
            f"{settings.min_invocations} invocations (rollout.min_invocations)"
        )
        if reasons:
            return GateDecision(Verdict.UNHEALTHY, reasons, [quiet])
        return GateDecision(Verdict.NOT_JUDGED, [quiet])
    error_gap = canary.error_rate_percent - stable.error_rate_percent
    if error_gap > settings.max_error_rate_increase_points:
        reasons.append(
            f"canary 5XX rate {canary.error_rate_percent:.2f} % exceeds stable's "
            f"{stable.error_rate_percent:.2f} % by more than {settings.max_error_rate_increase_points} points"
        )
    if canary.p99_latency_ms is not None and stable.p99_latency_ms:
        limit = stable.p99_latency_ms * (1 + settings.max_p99_latency_increase_percent / 100)
        if canary.p99_latency_ms > limit:
            reasons.append(
                f"canary p99 {canary.p99_latency_ms:.1f} ms exceeds stable's {stable.p99_latency_ms:.1f} ms "
                f"by more than {settings.max_p99_latency_increase_percent} %"
            )
    elif canary.p99_latency_ms is None or stable.p99_latency_ms is None:
        notes.append("p99 latency not compared: no datapoint for a variant yet")
    return GateDecision(Verdict.UNHEALTHY if reasons else Verdict.HEALTHY, reasons, notes)
