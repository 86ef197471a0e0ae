"""A rollout's progress, kept in tags on its SageMaker endpoint so every run can read it back.

Weights alone cannot tell a rollout that finished from one interrupted while
baking its last step (both leave the canary at 100 %), nor an abort from a
manual change. So ``rollout`` records its phase before it moves traffic and when
it stops, ``rollout abort`` records the abort, and both read the record first.
This module is the only owner of the tag names and their meaning:

- ``modelfleet:rollout:phase``: ``baking``, ``completed``, ``rolled-back`` or ``aborted``;
- ``modelfleet:rollout:step``: the canary percent the phase is about, e.g. ``100``;
- ``modelfleet:rollout:config``: the ``EndpointConfigName`` the rollout ran against;
- ``modelfleet:rollout:started``: when the rollout started, ISO 8601 UTC;
- ``modelfleet:rollout:updated``: when this record was written, ISO 8601 UTC;
- ``modelfleet:rollout:forced-reason``: the ``--reason`` of a run started with
  ``--force``, as a tag can hold it; absent otherwise.

A record belongs to one endpoint configuration: a ``pulumi up`` that deploys a
new one (a new canary, weights back to the stack file's) makes it stale, and it
is ignored. A record that cannot be parsed is no record: the rollout then bakes
again rather than trust it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

PREFIX = "modelfleet:rollout:"
PHASE, STEP, CONFIG, STARTED, UPDATED, FORCED_REASON = (
    f"{PREFIX}{name}" for name in ("phase", "step", "config", "started", "updated", "forced-reason")
)
# SageMaker tags: keys up to 128 characters, values up to 256, both only letters (\p{L}),
# separators (\p{Z}), numbers (\p{N}) and ``_.:/=+-@``: the pattern [\p{L}\p{Z}\p{N}_.:/=+\-@]*.
KEY_MAX, VALUE_MAX = 128, 256
ALLOWED_PUNCTUATION = frozenset("_.:/=+-@")


class Phase(StrEnum):
    BAKING = "baking"  # a step's weights are set (or about to be) and its bake has not finished
    COMPLETED = "completed"  # the last step baked in full with every gate passing
    ROLLED_BACK = "rolled-back"  # a gate failed; the rollout moved all traffic to stable
    ABORTED = "aborted"  # `modelfleet rollout abort` moved all traffic to stable


@dataclass(frozen=True)
class Progress:
    phase: Phase
    step_percent: float
    endpoint_config: str
    started: datetime
    updated: datetime
    forced_reason: str | None = None

    def describe(self) -> str:
        forced = f", forced: {self.forced_reason}" if self.forced_reason else ""
        return f"{self.phase} at {self.step_percent:g} % (started {_iso(self.started)}{forced})"


def tag_value(text: str) -> str:
    """``text`` as a SageMaker tag value: other characters become spaces, then cut to 256."""
    kept = "".join(ch if _allowed(ch) else " " for ch in text)
    return " ".join(kept.split())[:VALUE_MAX].strip()


def _allowed(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LZN" or ch in ALLOWED_PUNCTUATION


def to_tags(progress: Progress) -> dict[str, str]:
    tags = {
        PHASE: progress.phase.value,
        STEP: f"{progress.step_percent:g}",
        CONFIG: progress.endpoint_config,
        STARTED: _iso(progress.started),
        UPDATED: _iso(progress.updated),
    }
    if progress.forced_reason:
        tags[FORCED_REASON] = progress.forced_reason
    return {key: tag_value(value) for key, value in tags.items()}


def from_tags(tags: Mapping[str, str]) -> Progress | None:
    """The record in an endpoint's tags, or None when there is none or it does not parse."""
    try:
        return Progress(
            phase=Phase(tags[PHASE]),
            step_percent=float(tags[STEP]),
            endpoint_config=tags[CONFIG],
            started=_parse(tags[STARTED]),
            updated=_parse(tags[UPDATED]),
            forced_reason=tags.get(FORCED_REASON) or None,
        )
    except (KeyError, ValueError):
        return None


def read(sagemaker: Any, endpoint_arn: str, endpoint_config: str) -> Progress | None:
    """The endpoint's record for its current configuration; older configurations' records are stale."""
    tags: dict[str, str] = {}
    for page in sagemaker.get_paginator("list_tags").paginate(ResourceArn=endpoint_arn):
        tags |= {tag["Key"]: tag["Value"] for tag in page.get("Tags", [])}  # a repeated key: the last wins
    found = from_tags(tags)
    return found if found is not None and found.endpoint_config == endpoint_config else None


def write(sagemaker: Any, endpoint_arn: str, progress: Progress) -> None:
    """Replace the record: ``AddTags`` overwrites our keys, then keys this record lacks are removed."""
    tags = to_tags(progress)
    sagemaker.add_tags(ResourceArn=endpoint_arn, Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
    if FORCED_REASON not in tags:
        sagemaker.delete_tags(ResourceArn=endpoint_arn, TagKeys=[FORCED_REASON])


def timestamp(seconds: float) -> datetime:
    """A record's time from the clock's seconds, to whole seconds as the tags keep them."""
    return datetime.fromtimestamp(int(seconds), UTC)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
