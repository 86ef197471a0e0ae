"""Progressive canary rollout, gated by alarms and a comparison with stable, with rollback.

Everything it reads or changes goes through the model's driver
(``infra.ops.drivers``); the decisions are made here. Each step waits until the
model is in service, records its progress (``progress``), moves the split, then
bakes while the gates and the split are read every ``poll_seconds``. An
unhealthy gate returns all traffic to stable; a split moved by anyone else,
``rollout abort`` included, stops the run. Both are failures: only a last step
that baked in full is success, and only then is ``completed`` recorded. The
weights and that record tell a rerun where to resume. Every loop is bounded by a
deadline taken from the settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from infra.ops import progress
from infra.ops.clock import Clock, SystemClock
from infra.ops.drivers.base import CANARY, STABLE, EndpointState, ModelTarget, ServingDriver
from infra.ops.errors import OpsError, Refused
from infra.ops.gates import GateDecision, VariantMetrics, Verdict, alarm_reasons, evaluate
from infra.ops.history import StepLog
from infra.ops.progress import Phase, Progress
from infra.ops.steps import TOLERANCE, Step, plan_steps


class Outcome(Enum):
    PLANNED = "planned"  # dry run
    UNCHANGED = "unchanged"  # nothing to do
    COMPLETED = "completed"
    ROLLED_BACK = "rolled back"  # a gate failed
    ABORTED = "aborted"  # `rollout abort` returned the traffic to stable while this run baked

    @property
    def succeeded(self) -> bool:
        """Success is listed, never assumed: any other outcome, one added later too, is a failure."""
        return self in SUCCEEDED


SUCCEEDED = frozenset({Outcome.PLANNED, Outcome.UNCHANGED, Outcome.COMPLETED})


class Stopped(Exception):
    """The split, or the endpoint configuration, changed outside this run, or an abort was recorded."""

    def __init__(self, state: EndpointState, record: Progress | None):
        super().__init__(state.name)
        self.state, self.record = state, record


@dataclass
class Rollout:
    target: ModelTarget
    driver: ServingDriver
    console: Console
    clock: Clock = field(default_factory=SystemClock)
    forced_reason: str | None = None  # --force --reason: start although the canary cannot be fully judged
    history: StepLog = field(default_factory=StepLog)  # each step and its gate readings (infra.ops.history)

    def _ready(self, note: str | None = None) -> EndpointState:
        """In service, with both variants, and no guardrail deployment running."""
        settings = self.target.rollout
        try:
            state = self.driver.wait_in_service(
                self.target, settings.in_service_timeout_seconds, self.clock,
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
        record = self.driver.read_progress(self.target, state)
        finished = record is not None and record.phase is Phase.COMPLETED
        steps = plan_steps(
            state.canary_percent(), self.target.rollout.steps_percent, final_bake_done=finished
        )
        firing, missing = self.driver.read_alarms(self.target, self.target.alarm_names)
        self._show_plan(state, steps, record)
        if not steps:
            self.console.print("[green]✓[/] the canary's rollout is complete: nothing to do; next: promote")
            return Outcome.UNCHANGED
        watched = self._alarms_to_watch(state, firing, missing)
        if dry_run:
            self.console.print("[dim]dry run: nothing changed[/]")
            return Outcome.PLANNED
        if not skip_smoke:
            self._smoke_canary()
        try:
            return self._take(steps, state, self._start_record(state, record), watched)
        except Stopped as stop:
            return self._stopped(stop)

    def _alarms_to_watch(
        self, state: EndpointState, firing: list[str], missing: list[str]
    ) -> tuple[str, ...]:
        """Refuse, before any traffic moves, a canary whose alarms are missing or firing; unless forced,
        then those alarms go unwatched for this run and the reason is printed (and recorded later)."""
        problems = alarm_reasons(firing, missing)
        if problems and self.forced_reason is None:
            kept = state.canary_percent()
            keeps = f"; the canary keeps its {kept:.1f} % until rollout abort" if kept > TOLERANCE else ""
            raise Refused(
                f"refused, no traffic moved: the canary cannot be judged: {'; '.join(problems)}{keeps}; "
                "to start anyway: --force --reason '<why>'"
            )
        if self.forced_reason is not None:
            unwatched = f" (not watched in this run: {'; '.join(problems)})" if problems else ""
            self.console.print(
                f"[yellow]! forced: {escape(self.forced_reason)}{escape(unwatched)}[/]", soft_wrap=True
            )
        return tuple(name for name in self.target.alarm_names if name not in {*firing, *missing})

    def _take(
        self, steps: list[Step], state: EndpointState, record: Progress, watched: tuple[str, ...]
    ) -> Outcome:
        """Each step in turn: check the split, record, move, bake; roll back on the first bad gate."""
        expected = state.canary_percent()
        for number, step in enumerate(steps, start=1):
            state = self._ready(note=f"the split was left at {expected:g} % canary")
            self._check_split(state, expected, record, aborts_count=number > 1)
            record = self._record(state, record, Phase.BAKING, step.canary_percent)
            label = f"step {number}/{len(steps)}: canary {step.canary_percent} %"
            if step.shift:
                self.driver.set_weights(self.target, step.canary_percent)
                self._ready()
                self.console.print(f"[bold]→ {label}[/]")
            else:
                self.console.print(f"[bold]→ {label}[/] (resumed: baking again)")
            expected = step.canary_percent
            decision = self._bake(step, record, watched)
            self.history.step(step.canary_percent, decision)
            if not decision.healthy:
                self._roll_back(decision, record, step)
                return Outcome.ROLLED_BACK
        return self._complete(record)

    def _complete(self, record: Progress) -> Outcome:
        """Record ``completed``, then make sure no abort slipped in between the last poll and the record."""
        state = self.driver.read_weights(self.target)
        self._check_split(state, 100, record, aborts_count=True)
        self._record(state, record, Phase.COMPLETED, 100)
        self._check_split(self.driver.read_weights(self.target), 100, record)
        self.console.print("[green]✓[/] canary takes 100 % of traffic. Make it permanent: modelfleet promote")
        return Outcome.COMPLETED

    def abort(self, dry_run: bool = False) -> Outcome:
        """All traffic back to stable, recorded before and after the move so a running rollout stops."""
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
        start = self._start_record(state, self.driver.read_progress(self.target, state))
        record = self._record(state, start, Phase.ABORTED, state.canary_percent())
        self.driver.set_weights(self.target, 0)
        self.history.step(0, None, note=f"back to stable from {state.canary_percent():g} % canary")
        self._record(self._ready(), record, Phase.ABORTED, record.step_percent)
        self.console.print(
            f"[green]✓[/] {state.name}: all traffic back on stable; a rollout still running stops and fails"
        )
        return Outcome.COMPLETED

    def _start_record(self, state: EndpointState, found: Progress | None) -> Progress:
        """This run's record: a rollout interrupted while baking keeps its start and forced reason."""
        now = progress.timestamp(self.clock.now())
        resumed = found if found is not None and found.phase is Phase.BAKING else None
        return Progress(
            Phase.BAKING, state.canary_percent(), state.config_name,
            started=resumed.started if resumed else now, updated=now,
            forced_reason=self.forced_reason or (resumed.forced_reason if resumed else None),
        )  # fmt: skip

    def _record(self, state: EndpointState, record: Progress, phase: Phase, step: float) -> Progress:
        written = replace(
            record, phase=phase, step_percent=step, updated=progress.timestamp(self.clock.now())
        )
        self.driver.write_progress(self.target, state, written)
        return written

    def _check_split(
        self, state: EndpointState, expected: float, record: Progress, aborts_count: bool = True
    ) -> None:
        """Raise ``Stopped`` if the split left ``expected``, the configuration changed, or an abort is
        recorded. ``aborts_count`` is False before this run's first record: an older abort is history."""
        found = self.driver.read_progress(self.target, state) if aborts_count else None
        aborted = found is not None and found.phase is Phase.ABORTED
        moved = abs(state.canary_percent() - expected) > TOLERANCE
        if aborted or moved or state.config_name != record.endpoint_config:
            raise Stopped(state, found)

    def _stopped(self, stop: Stopped) -> Outcome:
        where = f"{stop.state.canary_percent():.1f} % canary"
        if stop.record is not None and stop.record.phase is Phase.ABORTED:
            self.console.print(
                f"[red bold]✗ aborted:[/] modelfleet rollout abort returned the traffic to stable "
                f"(split now {where}); this rollout did not complete",
                highlight=False,
            )
            return Outcome.ABORTED
        raise OpsError(
            f"the split moved to {where} outside this rollout (endpoint configuration "
            f"{stop.state.config_name}): stopped before completing; run again to resume from there"
        )

    def _smoke_canary(self) -> None:
        result = self.driver.smoke(self.target, CANARY)
        if not result.ok:
            raise OpsError(f"smoke test of the canary failed: {'; '.join(result.problems)}; nothing changed")
        self.console.print(f"[green]✓[/] smoke test: canary answered in {result.latency_ms:.0f} ms")

    def _gates(self, since: float, watched: tuple[str, ...]) -> GateDecision:
        """Fail closed: gates that cannot be read, or alarms that vanished, count as unhealthy."""
        try:
            found = self.driver.read_gates(self.target, watched, since, self.clock.now())
        except Exception as error:  # any failure to read is a reason to stop, not to continue
            return GateDecision(Verdict.UNHEALTHY, [f"could not read {self.driver.gate_source}: {error}"])
        self.history.readings(found)
        metrics = found.metrics
        return evaluate(
            found.firing, metrics.get(STABLE, VariantMetrics()), metrics.get(CANARY, VariantMetrics()),
            self.target.rollout, found.missing,
        )  # fmt: skip

    def _bake(self, step: Step, record: Progress, watched: tuple[str, ...]) -> GateDecision:
        """Poll the split and the gates for ``bake_seconds``; ``Stopped`` if the split moved.

        A canary too quiet to judge at the end of the bake holds the step, polling on,
        for up to ``insufficient_data_hold_seconds`` more; still unjudged, it counts as
        unhealthy. A step never passes on a verdict it did not get.
        """
        settings = self.target.rollout
        started = self.clock.now()
        bake_end = started + settings.bake_seconds
        hold_end = bake_end + settings.insufficient_data_hold_seconds
        holding = False
        while True:
            state = self.driver.read_weights(self.target)
            self._check_split(state, step.canary_percent, record)
            decision = self._gates(started, watched)
            now = self.clock.now()
            self._report(decision, now - started, holding)
            if decision.verdict is Verdict.UNHEALTHY or (decision.healthy and now >= bake_end):
                return decision
            if now >= hold_end:
                return self._not_judged(decision, now - started)
            if now >= bake_end and not holding:
                holding = True
                self.console.print(
                    f"  [yellow]holding the step:[/] up to {hold_end - now:.0f} s more for enough canary "
                    "traffic (rollout.insufficient_data_hold_seconds), then rolling back",
                    highlight=False,
                )
            self.clock.sleep(min(settings.poll_seconds, (hold_end if holding else bake_end) - now))

    def _not_judged(self, last: GateDecision, waited: float) -> GateDecision:
        settings = self.target.rollout
        return GateDecision(
            Verdict.UNHEALTHY,
            [f"could not judge the canary in {waited:.0f} s (bake {settings.bake_seconds} s + hold "
             f"{settings.insufficient_data_hold_seconds} s): {last.summary()}"],
        )  # fmt: skip

    def _report(self, decision: GateDecision, waited: float, holding: bool) -> None:
        colour = {Verdict.HEALTHY: "green", Verdict.NOT_JUDGED: "yellow"}.get(decision.verdict, "red")
        self.console.print(
            f"  [{colour}]{decision.verdict.value}[/] {'holding' if holding else 'baking'} at {waited:.0f}/"
            f"{self.target.rollout.bake_seconds} s: {escape(decision.summary())}",
            highlight=False,
        )

    def _roll_back(self, decision: GateDecision, record: Progress, step: Step) -> None:
        self.console.print(f"[red bold]✗ rolling back:[/] {decision.summary()}", highlight=False)
        self.driver.set_weights(self.target, 0)
        self._record(self._ready(), record, Phase.ROLLED_BACK, step.canary_percent)
        self.console.print("[yellow]all traffic is back on stable[/]")

    def _show_plan(self, state: EndpointState, steps: list[Step], record: Progress | None) -> None:
        settings = self.target.rollout
        self.console.print(
            f"[bold]{state.name}[/] ({self.target.region}): canary at {state.canary_percent():.1f} %, "
            f"{len(self.target.alarm_names)} alarms; progress: "
            f"{escape(record.describe()) if record else 'none recorded for this endpoint configuration'}",
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
            f"(after {settings.min_invocations} canary invocations, waiting up to "
            f"{settings.insufficient_data_hold_seconds} s past a bake for them, then rolling back); "
            f"poll every {settings.poll_seconds} s",
            highlight=False,
        )
