"""Rolling updates of an inference component: rollout, abort and promote for a placed model.

A model on a shared endpoint has no canary: the stack file's ``variants.stable``
and ``component:`` are the version every copy should run, and SageMaker
replaces the copies batch by batch (``component.rolling_update``), rolling back
by itself when one of the model's rollback alarms fires. So:

- ``rollout`` compares the live ``Specification`` with the stack file's; equal is
  nothing to do, a running update is attached to, otherwise it starts one with
  ``UpdateInferenceComponent``. It then reads the component every
  ``rollout.poll_seconds`` until the update ends, printing the status, the copy
  counts and the gates, within the update's ``max_execution_timeout_seconds``
  plus a margin. SageMaker judges; this reports what it decided.
- ``abort`` puts the first rollback alarm in ALARM (``SetAlarmState``), which
  makes SageMaker roll the running update back, and watches the rollback end.
- ``promote`` has nothing to edit: it checks that every copy runs the version.

Everything is read and changed through ``InferenceComponentDriver``; the decisions are here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.markup import escape

from infra.ops.clock import Clock, SystemClock
from infra.ops.drivers.base import ModelTarget
from infra.ops.drivers.inference_component import (
    FAILED,
    IN_SERVICE,
    UPDATING,
    ComponentState,
    InferenceComponentDriver,
    component_spec,
    version_problem,
)
from infra.ops.errors import InvalidInput, OpsError, RolledBack
from infra.ops.gates import VariantMetrics, alarm_reasons
from infra.ops.history import StepLog, local_user
from infra.ops.rollout import Outcome
from infra.specs import component_api

# After SageMaker's own timeout it still rolls the copies back: how long the watch waits past it.
MARGIN_SECONDS = 900


@dataclass
class ComponentRollout:
    target: ModelTarget
    driver: InferenceComponentDriver
    console: Console
    clock: Clock = field(default_factory=SystemClock)
    history: StepLog = field(default_factory=StepLog)  # each batch and its readings (infra.ops.history)

    @property
    def name(self) -> str:
        return self.target.inference_component or ""

    def run(self, dry_run: bool = False) -> Outcome:
        """Deploy the stack file's version by a rolling update, or attach to the one running."""
        spec = component_spec(self.target)
        request = component_api.update_request(spec)
        desired = request["Specification"]
        state = self.driver.describe(self.target)
        self._show(state)
        if state.updating:
            if dry_run:
                self.console.print(
                    f"dry run, nothing changed: a rolling update is running on {self.name}; "
                    "rollout would watch it until it ends",
                    highlight=False,
                )
                return Outcome.PLANNED
            self.console.print(f"[yellow]a rolling update is already running on {self.name}: watching it[/]")
            return self._watch(desired, started=self.clock.now(), aborting=False)
        if state.status == IN_SERVICE and not component_api.differences(desired, state.specification):
            self.console.print(
                f"[green]✓[/] {self.name} already runs the stack file's version on all "
                f"{state.current_copies} copies: nothing to do",
                highlight=False,
            )
            return Outcome.UNCHANGED
        if state.status not in (IN_SERVICE, FAILED):
            reason = f": {state.failure_reason}" if state.failure_reason else ""
            raise OpsError(f"inference component {self.name} is {state.status}{reason}; nothing was changed")
        changed = component_api.differences(desired, state.specification)
        self.console.print(f"new version: differs in {escape(', '.join(changed))}", highlight=False)
        self._show_policy(spec.rolling_update, request["DeploymentConfig"])
        if dry_run:
            self.console.print(
                "dry run, nothing changed; the UpdateInferenceComponent request:", highlight=False
            )
            self.console.print(json.dumps(request, indent=2), markup=False, highlight=False, soft_wrap=True)
            return Outcome.PLANNED
        started = self.clock.now()
        self.driver.update(self.target, request)
        self.console.print(
            f"[bold]→ UpdateInferenceComponent sent:[/] {self.name} is rolling, batch by batch"
        )
        return self._watch(desired, started, aborting=False)

    def abort(self, dry_run: bool = False) -> Outcome:
        """Make SageMaker roll the running update back through a rollback alarm, and watch it do so."""
        state = self.driver.describe(self.target)
        if not state.updating:
            raise InvalidInput(
                f"no rolling update is running on inference component {self.name} ({state.status}): "
                "nothing to abort, nothing changed"
            )
        alarms = state.rollback_alarms or tuple(
            component_api.rollback_alarm_names(component_spec(self.target))
        )
        if not alarms:
            raise OpsError(
                f"the rolling update of {self.name} has no rollback alarm to set: it cannot be rolled back "
                "from here; nothing changed"
            )
        alarm = alarms[0]
        if dry_run:
            self.console.print(
                f"dry run, nothing changed: abort would set alarm {alarm} to ALARM, and SageMaker would "
                f"roll {self.name} back",
                highlight=False,
            )
            return Outcome.PLANNED
        reason = f"modelfleet abort by {local_user()}: roll back the rolling update of {self.name}"
        self.driver.force_rollback(self.target, alarm, reason)
        self.console.print(
            f"[bold]→ alarm {escape(alarm)} set to ALARM[/] (SetAlarmState): SageMaker rolls {self.name} "
            "back; "
            "CloudWatch returns the alarm to its real state at its next evaluation",
            highlight=False,
        )
        self._watch(None, started=self.clock.now(), aborting=True)
        return Outcome.COMPLETED

    def promote(self) -> None:
        """Nothing shifts for a component: succeed only if every copy runs the stack file's version."""
        desired = component_api.specification(component_spec(self.target))
        state = self.driver.describe(self.target)
        self.history.batch(state.status, state.desired_copies, state.current_copies, None)
        problem = version_problem(state, desired)
        if problem:
            raise OpsError(problem)
        self.console.print(
            f"[green]✓[/] {self.name}: all {state.current_copies} copies run the stack file's version "
            "(variants.stable): nothing to promote, a component has no canary",
            highlight=False,
        )

    def _watch(self, desired: dict[str, Any] | None, started: float, aborting: bool) -> Outcome:
        """Read the component until the update ends, bounded by the update's own timeout plus a margin.

        ``desired`` is the version a rollout waits for (None: an abort waits for the old one).
        """
        rolling = component_spec(self.target).rolling_update
        limit = rolling.max_execution_timeout_seconds + MARGIN_SECONDS
        deadline = started + limit
        poll = self.target.rollout.poll_seconds
        while True:
            state = self.driver.describe(self.target)
            self._reading(state, started)
            if state.status == IN_SERVICE:
                return self._ended(state, desired, aborting)
            if state.status == FAILED:
                reason = state.failure_reason or "no reason given"
                raise OpsError(f"the rolling update of {self.name} failed: {reason}")
            if state.status != UPDATING:
                raise OpsError(f"inference component {self.name} is {state.status} during its rolling update")
            now = self.clock.now()
            if now >= deadline:
                raise OpsError(
                    f"timed out: {self.name} is still Updating after {limit} s "
                    f"(rolling_update.max_execution_timeout_seconds + {MARGIN_SECONDS} s); "
                    "SageMaker rolls it back at its own timeout: run modelfleet rollout again to watch"
                )
            self.clock.sleep(min(poll, deadline - now))

    def _ended(self, state: ComponentState, desired: dict[str, Any] | None, aborting: bool) -> Outcome:
        reason = state.failure_reason or "SageMaker restored the previous version"
        if aborting:
            self.console.print(
                f"[green]✓[/] aborted: {self.name} rolled back, InService on {state.current_copies} copies "
                f"({escape(reason)})",
                highlight=False,
            )
            return Outcome.COMPLETED
        assert desired is not None
        if not component_api.differences(desired, state.specification):
            self.console.print(
                f"[green]✓[/] {self.name} runs the new version on all {state.current_copies} copies",
                highlight=False,
            )
            return Outcome.COMPLETED
        if state.failure_reason:
            raise RolledBack(
                f"the rolling update of {self.name} was rolled back: {reason}; "
                "every copy runs the previous version"
            )
        changed = ", ".join(component_api.differences(desired, state.specification))
        raise OpsError(
            f"the rolling update of {self.name} ended InService without the stack file's version "
            f"(differs in {changed}): rolled back, or the update it watched deployed another version"
        )

    def _reading(self, state: ComponentState, started: float) -> None:
        """One line per reading: status, copies, and the gates SageMaker and the on-call look at."""
        now = self.clock.now()
        gates = None
        try:
            gates = self.driver.read_gates(self.target, self.target.alarm_names, started, now)
            metrics = gates.metrics.get(self.name, VariantMetrics())
            problems = alarm_reasons(gates.firing, gates.missing)
            p99 = f"{metrics.p99_latency_ms:.0f} ms" if metrics.p99_latency_ms is not None else "no data"
            readings = (
                f"5XX {metrics.error_rate_percent:.2f} % of {metrics.invocations:.0f}, p99 {p99}; "
                f"{'; '.join(problems) or 'no alarm in ALARM'}"
            )
        except Exception as error:  # a reading we cannot take is reported; SageMaker still judges
            readings = f"gates not read ({self.driver.gate_source}): {error}"
        self.history.batch(state.status, state.desired_copies, state.current_copies, gates)
        self.console.print(
            f"  {now - started:5.0f} s  {state.status}: copies desired {state.desired_copies}, "
            f"current {state.current_copies}; {escape(readings)}",
            highlight=False,
        )

    def _show(self, state: ComponentState) -> None:
        self.console.print(
            f"[bold]{self.name}[/] on {self.target.endpoint_name} ({self.target.region}): {state.status}, "
            f"copies desired {state.desired_copies}, current {state.current_copies}",
            highlight=False,
        )

    def _show_policy(self, rolling: Any, config: dict[str, Any]) -> None:
        batch = rolling.batch
        size = (
            f"{batch.value} cop{'y' if batch.value == 1 else 'ies'}"
            if batch.type == "copies"
            else (f"{batch.value} % of the copies")
        )
        alarms = [alarm["AlarmName"] for alarm in config["AutoRollbackConfiguration"]["Alarms"]]
        self.console.print(
            f"rolling update: {size} per batch, {rolling.wait_seconds} s between batches, at most "
            f"{rolling.max_execution_timeout_seconds} s; "
            f"SageMaker rolls back on {', '.join(alarms) or 'no alarm'}; "
            f"readings every {self.target.rollout.poll_seconds} s",
            highlight=False,
        )
