"""Progressive canary rollout on a SageMaker endpoint, gated by CloudWatch, with rollback.

Each step waits for ``InService``, moves the split, then bakes while gates are
read every ``poll_seconds``; an unhealthy gate returns all traffic to stable.
The endpoint's own weights are the only state, so a rerun resumes where the
split stands. Every loop is bounded by a deadline taken from the settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from rich.console import Console
from rich.table import Table

from infra.ops import endpoints, signals
from infra.ops.clock import Clock, SystemClock
from infra.ops.gates import GateDecision, VariantMetrics, evaluate
from infra.ops.smoke import smoke
from infra.ops.steps import TOLERANCE, Step, plan_steps
from infra.ops.target import CANARY, STABLE, ModelTarget, OpsError


class Outcome(Enum):
    PLANNED = "planned"  # dry run
    UNCHANGED = "unchanged"  # nothing to do
    COMPLETED = "completed"
    ROLLED_BACK = "rolled back"


@dataclass
class Rollout:
    target: ModelTarget
    sagemaker: Any
    cloudwatch: Any
    runtime: Any
    console: Console
    clock: Clock = field(default_factory=SystemClock)

    def _ready(self, note: str | None = None) -> endpoints.EndpointState:
        """InService, with both variants, and no guardrail deployment running."""
        settings = self.target.rollout
        try:
            state = endpoints.wait_in_service(
                self.sagemaker, self.target.endpoint_name, settings.in_service_timeout_seconds, self.clock,
                poll_seconds=min(15, settings.poll_seconds),
            )  # fmt: skip
        except OpsError as error:
            if note is None:
                raise
            raise OpsError(f"{error}; {note}") from None
        missing = {STABLE, CANARY} - set(state.weights)
        if missing:
            raise OpsError(
                f"endpoint {state.name} has no variant {', '.join(sorted(missing))}: "
                "has the stack's canary been deployed (pulumi up)?"
            )
        return state

    def run(self, dry_run: bool = False, skip_smoke: bool = False) -> Outcome:
        if not self.target.has_canary:
            raise OpsError(f"model '{self.target.model.name}' has no canary in {self.target.stack_file}")
        state = self._ready(note="nothing was changed")
        steps = plan_steps(state.canary_percent(), self.target.rollout.steps_percent)
        self._show_plan(state, steps)
        if dry_run:
            return Outcome.PLANNED
        if not steps:
            self.console.print("[green]✓[/] canary takes 100 % already: nothing to do; next: promote")
            return Outcome.UNCHANGED
        if not skip_smoke:
            self._smoke_canary()
        expected = state.canary_percent()
        for number, step in enumerate(steps, start=1):
            state = self._ready(note=f"the split was left at {expected:g} % canary")
            if abs(state.canary_percent() - expected) > TOLERANCE:
                raise OpsError(
                    f"the split moved to {state.canary_percent():.1f} % canary outside this rollout: "
                    "stopping; run again to resume from there"
                )
            label = f"step {number}/{len(steps)}: canary {step.canary_percent} %"
            if step.shift:
                endpoints.set_canary_percent(self.sagemaker, self.target.endpoint_name, step.canary_percent)
                self._ready()
                self.console.print(f"[bold]→ {label}[/]")
            else:
                self.console.print(f"[bold]→ {label}[/] (resumed: baking again)")
            expected = step.canary_percent
            decision = self._bake(step)
            if not decision.healthy:
                self._roll_back(decision)
                return Outcome.ROLLED_BACK
        self.console.print("[green]✓[/] canary takes 100 % of traffic. Make it permanent: modelfleet promote")
        return Outcome.COMPLETED

    def abort(self, dry_run: bool = False) -> Outcome:
        state = self._ready()
        if state.canary_percent() <= TOLERANCE:
            self.console.print(f"[green]✓[/] {state.name}: all traffic is already on stable")
            return Outcome.UNCHANGED
        if dry_run:
            self.console.print(
                f"dry run, nothing changed: {state.name} has {state.canary_percent():.1f} % on the canary; "
                "abort would move all traffic back to stable",
                highlight=False,
            )
            return Outcome.PLANNED
        endpoints.set_canary_percent(self.sagemaker, self.target.endpoint_name, 0)
        self._ready()
        self.console.print(f"[green]✓[/] {state.name}: all traffic back on stable")
        return Outcome.COMPLETED

    def _smoke_canary(self) -> None:
        result = smoke(self.runtime, self.target, CANARY)
        if not result.ok:
            raise OpsError(f"smoke test of the canary failed: {'; '.join(result.problems)}; nothing changed")
        self.console.print(f"[green]✓[/] smoke test: canary answered in {result.latency_ms:.0f} ms")

    def _gates(self, since: float) -> GateDecision:
        """Fail closed: gates that cannot be read count as unhealthy."""
        try:
            firing, _ = signals.alarm_states(self.cloudwatch, self.target.alarm_names)
            metrics = signals.variant_metrics(
                self.cloudwatch, self.target.endpoint_name, [STABLE, CANARY], since, self.clock.now()
            )
        except Exception as error:  # any failure to read is a reason to stop, not to continue
            return GateDecision(False, [f"could not read CloudWatch: {error}"])
        return evaluate(
            firing, metrics.get(STABLE, VariantMetrics()), metrics.get(CANARY, VariantMetrics()),
            self.target.rollout,
        )  # fmt: skip

    def _bake(self, step: Step) -> GateDecision:
        settings = self.target.rollout
        started = self.clock.now()
        deadline = started + settings.bake_seconds
        while True:
            decision = self._gates(started)
            waited = self.clock.now() - started
            colour = "green" if decision.healthy else "red"
            self.console.print(
                f"  [{colour}]{'ok' if decision.healthy else 'UNHEALTHY'}[/] at {waited:.0f}/"
                f"{settings.bake_seconds} s: {decision.summary()}",
                highlight=False,
            )
            remaining = deadline - self.clock.now()
            if not decision.healthy or remaining <= 0:
                return decision
            self.clock.sleep(min(settings.poll_seconds, remaining))

    def _roll_back(self, decision: GateDecision) -> None:
        self.console.print(f"[red bold]✗ rolling back:[/] {decision.summary()}", highlight=False)
        endpoints.set_canary_percent(self.sagemaker, self.target.endpoint_name, 0)
        self._ready()
        self.console.print("[yellow]all traffic is back on stable[/]")

    def _show_plan(self, state: endpoints.EndpointState, steps: list[Step]) -> None:
        settings = self.target.rollout
        self.console.print(
            f"[bold]{state.name}[/] ({self.target.region}): canary at {state.canary_percent():.1f} %, "
            f"{len(self.target.alarm_names)} alarms watched",
            highlight=False,
        )
        _, missing = signals.alarm_states(self.cloudwatch, self.target.alarm_names)
        if missing:
            self.console.print(
                f"[yellow]! {len(missing)} of {len(self.target.alarm_names)} alarms not found "
                f"(first: {missing[0]}): is the stack deployed?[/]",
                highlight=False,
            )
        table = Table("step", "canary %", "stable %", "action", "bake s")
        for number, step in enumerate(steps, start=1):
            action = "set weights" if step.shift else "bake again (resumed)"
            table.add_row(
                str(number), str(step.canary_percent), str(100 - step.canary_percent), action,
                str(settings.bake_seconds),
            )  # fmt: skip
        if steps:
            self.console.print(table)
        self.console.print(
            f"gates: no alarm in ALARM; canary 5XX rate ≤ stable + {settings.max_error_rate_increase_points}"
            f" points; canary p99 ≤ stable + {settings.max_p99_latency_increase_percent} % "
            f"(after {settings.min_invocations} canary invocations); poll every {settings.poll_seconds} s",
            highlight=False,
        )
