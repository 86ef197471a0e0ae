"""Rollout history: one structured record per ``rollout``, ``rollout abort`` and ``promote``.

A record says who ran the command (the caller's STS ARN and the local user),
when it started and ended, the ``--reason`` given, each step with the gate
readings it was judged by, and how it ended. Records go to the stack's
KMS-encrypted log group (``naming.rollout_history_log_group``, declared by the
``Platform``), one log stream per model, one JSON event per record;
``modelfleet history`` reads them back.

- A dry run records nothing.
- History is a record of the change, never a condition for it: a record that
  cannot be written (no log group yet, no permission) costs one warning line on
  stderr, and the command exits with its own code.
- The rollout and the component rollout report their steps to a ``StepLog``;
  ``Recorder`` wraps a command and writes what it collected, with the outcome,
  whether the command returned or raised.
"""

from __future__ import annotations

import contextlib
import getpass
import json
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from types import TracebackType
from typing import Any, Literal

from rich.console import Console
from rich.markup import escape

from infra.ops.clients import client
from infra.ops.clock import Clock
from infra.ops.drivers.base import GateReadings, ModelTarget
from infra.ops.errors import InvalidInput, Refused, RolledBack
from infra.ops.gates import GateDecision
from infra.specs import naming

Command = Literal["rollout", "abort", "promote"]
MAX_STEPS = 200  # a record stays one log event (CloudWatch Logs takes up to 256 KB per event)


class Result(StrEnum):
    """How a command ended, as the record keeps it."""

    SUCCEEDED = "succeeded"
    UNCHANGED = "unchanged"  # nothing to do
    ROLLED_BACK = "rolled_back"  # a gate failed: the rollout, or SageMaker, put the old version back
    ABORTED = "aborted"  # `rollout abort` stopped this rollout
    REFUSED = "refused"  # checked and refused before anything changed
    FAILED = "failed"  # an error, a timeout, a split moved by someone else
    INTERRUPTED = "interrupted"  # Ctrl-C: the endpoint stays as it was left


@dataclass(frozen=True)
class Actor:
    arn: str  # STS GetCallerIdentity: who AWS saw make the calls
    user: str  # the login name on the machine that ran the command


@dataclass
class StepRecord:
    """One step: a canary percent (a rollout), a copy count (a rolling update) or an edit (promote)."""

    step: int
    at: str  # ISO 8601 UTC, when the step's decision was taken
    decision: str  # the gate verdict (ok, UNHEALTHY, not judged), the component's status, or what was done
    canary_percent: float | None = None
    copies: dict[str, int] | None = None  # a rolling update: desired and current
    firing_alarms: list[str] = field(default_factory=list)
    missing_alarms: list[str] = field(default_factory=list)
    # per variant (or component): invocations, error_rate_percent, p99_latency_ms
    variants: dict[str, dict[str, float | None]] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)

    def summary(self) -> str:
        where = f"{self.canary_percent:g} %" if self.canary_percent is not None else ""
        if self.copies is not None:
            where = f"{self.copies.get('current', 0)}/{self.copies.get('desired', 0)} copies"
        return f"{where} {self.decision}".strip()


@dataclass
class HistoryRecord:
    stack: str
    model: str
    backend: str
    target: str  # the endpoint, or the inference component, the command acted on
    command: Command
    actor: Actor
    started: str
    ended: str
    outcome: Result
    reason: str | None = None
    message: str = ""
    steps: list[StepRecord] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> HistoryRecord:
        data = json.loads(text)
        return cls(
            **{k: v for k, v in data.items() if k not in ("actor", "steps", "outcome")},
            actor=Actor(**data["actor"]),
            outcome=Result(data["outcome"]),
            steps=[StepRecord(**step) for step in data.get("steps", [])],
        )

    def steps_summary(self) -> str:
        return " → ".join(step.summary() for step in self.steps)


def timestamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def local_user() -> str:
    """Who runs the command on this machine: recorded, and named in an abort's alarm reason."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name (a container without passwd entry)
        return "unknown user"


@dataclass
class StepLog:
    """What a rollout reports as it goes: the latest gate readings, and each step once decided."""

    clock: Clock | None = None
    steps: list[StepRecord] = field(default_factory=list)
    latest: GateReadings | None = None

    def _at(self) -> str:
        return timestamp(self.clock.now()) if self.clock else ""

    def readings(self, found: GateReadings) -> None:
        self.latest = found

    def step(self, canary_percent: float, decision: GateDecision | None, note: str = "") -> None:
        """A canary step decided (``decision``), or a move with no gate to judge it (``note``)."""
        found, self.latest = self.latest, None
        record = StepRecord(
            step=len(self.steps) + 1, at=self._at(), canary_percent=canary_percent,
            decision=decision.verdict.value if decision else note,
            reasons=list(decision.reasons or decision.notes) if decision else [],
        )  # fmt: skip
        self._add(record, found)

    def note(self, done: str) -> None:
        """A step that moved no traffic: a promote's edit of the stack file."""
        self._add(StepRecord(len(self.steps) + 1, self._at(), done), None)

    def batch(self, status: str, desired: int, current: int, found: GateReadings | None) -> None:
        """A rolling update's reading: a new step when the status or the copies change, else the latest
        readings of the current one."""
        copies = {"desired": desired, "current": current}
        last = self.steps[-1] if self.steps else None
        if last is not None and (last.decision, last.copies) == (status, copies):
            self.steps.pop()
        self._add(StepRecord(len(self.steps) + 1, self._at(), status, copies=copies), found)

    def _add(self, record: StepRecord, found: GateReadings | None) -> None:
        if found is not None:
            record.firing_alarms, record.missing_alarms = list(found.firing), list(found.missing)
            record.variants = {
                name: {
                    "invocations": metrics.invocations,
                    "error_rate_percent": round(metrics.error_rate_percent, 4),
                    "p99_latency_ms": metrics.p99_latency_ms,
                }
                for name, metrics in found.metrics.items()
            }
        if len(self.steps) < MAX_STEPS:
            self.steps.append(record)


@dataclass
class HistoryLog:
    """The stack's history log group, through CloudWatch Logs; clients made on first use unless given."""

    stack: str
    region: str
    clients: dict[str, Any] = field(default_factory=dict)

    @property
    def group(self) -> str:
        return naming.rollout_history_log_group(self.stack)

    def _aws(self, service: str) -> Any:
        if service not in self.clients:
            self.clients[service] = client(service, self.region, max_attempts=3)
        return self.clients[service]

    def caller(self) -> str:
        try:
            return str(self._aws("sts").get_caller_identity()["Arn"])
        except Exception as error:  # the record still names the local user
            return f"unknown ({type(error).__name__})"

    def write(self, record: HistoryRecord, at: float) -> None:
        """One event in the model's stream, created when missing; the group must exist (pulumi up)."""
        logs = self._aws("logs")
        with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
            logs.create_log_stream(logGroupName=self.group, logStreamName=record.model)
        logs.put_log_events(
            logGroupName=self.group,
            logStreamName=record.model,
            logEvents=[{"timestamp": int(at * 1000), "message": record.to_json()}],
        )

    def exists(self) -> bool:
        found = self._aws("logs").describe_log_groups(logGroupNamePrefix=self.group)["logGroups"]
        return any(group["logGroupName"] == self.group for group in found)

    def read(self, model: str | None = None, last: int | None = None) -> list[HistoryRecord]:
        """The records, oldest first (by when each ended, to the millisecond); of one model's stream if
        ``model`` is given; the ``last`` N."""
        records = [record for _, record in sorted(self._events(model), key=lambda event: event[0])]
        return records[-last:] if last else records

    def _events(self, model: str | None) -> Iterator[tuple[int, HistoryRecord]]:
        logs = self._aws("logs")
        request: dict[str, Any] = {"logGroupName": self.group}
        if model is not None:
            request["logStreamNames"] = [model]
        try:
            for page in logs.get_paginator("filter_log_events").paginate(**request):
                for event in page.get("events", []):
                    try:
                        yield event["timestamp"], HistoryRecord.from_json(event["message"])
                    except (ValueError, TypeError, KeyError):
                        continue  # not a record: someone else's line in the group
        except logs.exceptions.ResourceNotFoundException:
            return  # no such stream: that model has no records


RESULTS_OF_ERRORS: tuple[tuple[type[BaseException], Result], ...] = (
    (Refused, Result.REFUSED),
    (InvalidInput, Result.REFUSED),
    (RolledBack, Result.ROLLED_BACK),
    (KeyboardInterrupt, Result.INTERRUPTED),
)


class Recorder:
    """``with Recorder(...) as history:`` around one command; ``finish`` says how it ended.

    On leaving, the record is written, unless the command was a dry run. An
    exception leaving the block is recorded (refused, rolled back, interrupted or
    failed) and goes on; a record that cannot be written is one warning on ``err``.
    """

    def __init__(
        self,
        target: ModelTarget,
        command: Command,
        reason: str | None,
        err: Console,
        clock: Clock,
        dry_run: bool = False,
        log: HistoryLog | None = None,
    ):
        self.target, self.command, self.reason, self.err, self.clock = target, command, reason, err, clock
        self.dry_run = dry_run
        self.log = log or HistoryLog(target.stack, target.region)
        self.steps = StepLog(clock)
        self.result: Result | None = None
        self.message = ""
        self.started = clock.now()

    def __enter__(self) -> Recorder:
        self.started = self.clock.now()
        return self

    def finish(self, result: Result, message: str = "") -> None:
        self.result, self.message = result, message

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, _: TracebackType | None
    ) -> Literal[False]:
        if self.dry_run:
            return False
        if error is not None:
            self.result = next((r for k, r in RESULTS_OF_ERRORS if isinstance(error, k)), Result.FAILED)
            self.message = str(error) or type(error).__name__
        ended = self.clock.now()
        record = HistoryRecord(
            stack=self.target.stack, model=self.target.model.name, backend=str(self.target.model.backend),
            target=self.target.inference_component or self.target.endpoint_name, command=self.command,
            actor=Actor(self.log.caller(), local_user()), started=timestamp(self.started),
            ended=timestamp(ended), outcome=self.result or Result.FAILED, reason=self.reason,
            message=self.message or self._last_reasons(), steps=self.steps.steps,
        )  # fmt: skip
        try:
            self.log.write(record, ended)
        except Exception as failure:  # history never fails the command it records
            self.err.print(
                f"[yellow]! not recorded in the rollout history ({escape(self.log.group)}): "
                f"{escape(str(failure))}[/]",
                highlight=False,
                soft_wrap=True,
            )
        return False

    def _last_reasons(self) -> str:
        last = self.steps.steps[-1] if self.steps.steps else None
        return "; ".join(last.reasons) if last and self.result is not Result.SUCCEEDED else ""


def as_rows(records: list[HistoryRecord]) -> list[Mapping[str, Any]]:
    return [asdict(record) for record in records]
