"""Shadow tests: how a shadow variant compares with production, and the edit that makes it the canary.

A shadow variant (``variants.shadow``, SageMaker's ShadowProductionVariants) gets a
copy of a share of live requests and answers no one. ``modelfleet shadow report``
reads both variants from CloudWatch over one window and judges the shadow by the
rules a canary's bake is judged by, plus the SLO itself:

* its p99 ModelLatency is within the SLO, and within the rollout's
  ``max_p99_latency_increase_percent`` of production's;
* its 5XX rate is within the SLO's ``error_rate_percent``, and at most
  ``max_error_rate_increase_points`` above production's;
* it saw at least ``rollout.min_invocations`` requests, else it is not judged (a fail).

``modelfleet promote --from-shadow`` then turns a passing shadow into the canary.
An endpoint with a shadow may have only one production variant, so this is a
new endpoint configuration: the stack file's ``shadow`` becomes ``canary`` at
weight 0 and the next ``pulumi up`` replaces the configuration. The canary starts
without traffic (and without a scaling target); ``modelfleet rollout`` moves it.
"""

from __future__ import annotations

import copy
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the settings' models and the stack-file editor: not needed by the CLI's parsers
    from infra.ops.gates import VariantMetrics
    from infra.settings.catalog import RolloutSettings, SloSettings
    from infra.stackfiles.edit import KeyPath, StackDocument

SHADOW, PRODUCTION = "shadow", "stable"
DEFAULT_WINDOW_MINUTES = 60

# Variant name -> p99 ModelLatency in ms. GetMetricData's percentile is the one source in
# production; a store that cannot compute percentiles (moto in tests) is given one here.
P99Source = Callable[[str], float | None]


@dataclass(frozen=True)
class ShadowReport:
    """Both variants over one window, and whether the shadow passes."""

    production: VariantMetrics
    shadow: VariantMetrics
    window_minutes: int
    reasons: list[str] = field(default_factory=list)  # why it fails; empty when it passes
    notes: list[str] = field(default_factory=list)  # what was not compared

    @property
    def passed(self) -> bool:
        return not self.reasons

    def lines(self) -> list[str]:
        """The report as the command prints it, one line per fact."""

        def row(name: str, m: VariantMetrics) -> str:
            p99 = f"{m.p99_latency_ms:.1f} ms" if m.p99_latency_ms is not None else "no datapoint"
            return (
                f"{name:<10} {m.invocations:>10.0f} invocations  5XX {m.error_rate_percent:6.2f} %  p99 {p99}"
            )

        verdict = "PASS" if self.passed else "FAIL"
        return [
            f"last {self.window_minutes} minutes:",
            row(PRODUCTION, self.production),
            row(SHADOW, self.shadow),
            *(f"- {reason}" for reason in self.reasons),
            *(f"note: {note}" for note in self.notes),
            verdict,
        ]


def judge(
    production: VariantMetrics,
    shadow: VariantMetrics,
    slo: SloSettings,
    rollout: RolloutSettings,
    window_minutes: int,
) -> ShadowReport:
    """Pass or fail against the SLO and production's own numbers (pure)."""
    reasons: list[str] = []
    notes: list[str] = []
    if shadow.invocations < rollout.min_invocations:
        reasons.append(
            f"not enough shadow traffic to judge: {shadow.invocations:.0f} of {rollout.min_invocations} "
            "invocations (rollout.min_invocations): widen --window-minutes or raise variants.shadow.weight"
        )
        return ShadowReport(production, shadow, window_minutes, reasons)
    if shadow.p99_latency_ms is None:
        reasons.append("no p99 ModelLatency datapoint for the shadow in the window")
    else:
        if shadow.p99_latency_ms > slo.p99_latency_ms:
            reasons.append(
                f"shadow p99 {shadow.p99_latency_ms:.1f} ms is above the SLO's {slo.p99_latency_ms} ms "
                "(slo.p99_latency_ms)"
            )
        if production.p99_latency_ms:
            limit = production.p99_latency_ms * (1 + rollout.max_p99_latency_increase_percent / 100)
            if shadow.p99_latency_ms > limit:
                reasons.append(
                    f"shadow p99 {shadow.p99_latency_ms:.1f} ms exceeds production's "
                    f"{production.p99_latency_ms:.1f} ms by more than "
                    f"{rollout.max_p99_latency_increase_percent} % (rollout.max_p99_latency_increase_percent)"
                )
        else:
            notes.append("p99 not compared with production: no datapoint for it in the window")
    if shadow.error_rate_percent > slo.error_rate_percent:
        reasons.append(
            f"shadow 5XX rate {shadow.error_rate_percent:.2f} % is above the SLO's "
            f"{slo.error_rate_percent} % (slo.error_rate_percent)"
        )
    gap = shadow.error_rate_percent - production.error_rate_percent
    if gap > rollout.max_error_rate_increase_points:
        reasons.append(
            f"shadow 5XX rate {shadow.error_rate_percent:.2f} % exceeds production's "
            f"{production.error_rate_percent:.2f} % by more than {rollout.max_error_rate_increase_points} "
            "points (rollout.max_error_rate_increase_points)"
        )
    return ShadowReport(production, shadow, window_minutes, reasons, notes)


def pair(
    found: Mapping[str, VariantMetrics], p99: P99Source | None = None
) -> tuple[VariantMetrics, VariantMetrics]:
    """(production, shadow) from the metrics read per variant; ``p99`` overrides their percentiles."""
    if p99 is not None:
        found = {name: replace(m, p99_latency_ms=p99(name)) for name, m in found.items()}
    return found[PRODUCTION], found[SHADOW]


@dataclass(frozen=True)
class ShadowEdit:
    """The stack-file edit of ``promote --from-shadow``: the shadow's mapping becomes the canary."""

    at: KeyPath  # the model's ``variants`` mapping
    canary: Mapping[str, Any]  # the shadow's own keys, weight 0

    def describe(self) -> str:
        return "variants.shadow is now variants.canary at weight 0"


def from_shadow_edit(variants: Mapping[str, Any], at: KeyPath) -> ShadowEdit:
    """The edit for the ``variants`` mapping found at ``at`` (pure: the document is not touched)."""
    from infra.stackfiles.edit import StackEditError  # noqa: PLC0415

    if "shadow" not in variants:
        raise StackEditError(f"no '{'.'.join(map(str, at))}.shadow' to make the canary")
    canary = copy.deepcopy(variants["shadow"])  # keeps its keys' order and flow style
    canary["weight"] = 0  # no traffic until modelfleet rollout moves it
    return ShadowEdit(at, canary)


def apply(document: StackDocument, edit: ShadowEdit) -> None:
    document.delete((*edit.at, "shadow"))
    document.set((*edit.at, "canary"), edit.canary)


def next_commands(
    stack: str, model: str, forced_reason: str | None = None, stack_file: Any = None
) -> list[str]:
    """After the edit: a new endpoint configuration, then the canary's rollout."""
    steps = [f"pulumi up --stack {stack}", f"modelfleet rollout --stack {stack} --model {model}"]
    if forced_reason:
        message = f"Promote {model}'s shadow to canary in {stack}, forced: {forced_reason}"
        steps.insert(0, f"git commit -m {shlex.quote(message)} -- {shlex.quote(str(stack_file or '.'))}")
    return steps
