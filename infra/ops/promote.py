"""Make a finished canary permanent in the stack file, in the two steps SageMaker needs.

SageMaker refuses to remove a variant that is still an Application Auto Scaling
target, and ``pulumi up`` deletes the target only after updating the endpoint.
So promotion is two edits, each followed by ``pulumi up``:

1. *shift*: stable takes the canary's artifact and weight 100, the canary weight 0
   (a canary at weight 0 loses its scaling target);
2. *remove*: the canary, now identical to stable and without a target, is dropped.

Each run of ``promote`` makes the next edit, judged from the file itself. Whether
the live endpoint is ready for it is the driver's to read
(``ServingDriver.promotion_problem``) and ``endpoint_problem``'s to judge.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.ops.drivers.base import PromotePhase
from infra.ops.progress import Phase, Progress
from infra.ops.steps import TOLERANCE
from infra.stackfiles.edit import KeyPath, StackDocument

SOURCE_KEYS = ("model_data", "model_package_arn", "model_package_group", "image")  # a variant's version


@dataclass(frozen=True)
class PromoteEdit:
    phase: PromotePhase
    sets: list[tuple[KeyPath, Any]] = field(default_factory=list)
    deletes: list[KeyPath] = field(default_factory=list)


def promote_edit(variants: Mapping[str, Any], at: KeyPath) -> PromoteEdit:
    """The next edit for a model's ``variants`` mapping found at key path ``at`` (pure)."""
    stable, canary = variants["stable"], variants["canary"]
    same_version = all(stable.get(k) == canary.get(k) for k in SOURCE_KEYS)
    if same_version and canary.get("weight", 100) == 0:
        return PromoteEdit("remove", deletes=[(*at, "canary")])
    sets: list[tuple[KeyPath, Any]] = [((*at, "stable", k), canary[k]) for k in SOURCE_KEYS if k in canary]
    deletes = [(*at, "stable", k) for k in SOURCE_KEYS if k in stable and k not in canary]
    sets += [((*at, "stable", "weight"), 100), ((*at, "canary", "weight"), 0)]
    return PromoteEdit("shift", sets, deletes)


def apply(document: StackDocument, edit: PromoteEdit) -> None:
    for key in edit.deletes:
        document.delete(key)
    for key, value in edit.sets:
        document.set(key, value)


def next_commands(
    stack: str, model: str, phase: str, forced_reason: str | None = None, stack_file: Path | None = None
) -> list[str]:
    """What the operator runs after each edit, in order.

    A forced edit starts with committing it under a message that carries the
    reason: the stack file's history is where a promotion is reviewed and kept.
    """
    up = f"pulumi up --stack {stack}"
    steps = [up, f"modelfleet promote --stack {stack} --model {model}", up] if phase == "shift" else [up]
    if forced_reason:
        message = f"Promote {model} in {stack} ({phase}), forced: {forced_reason}"
        steps.insert(0, f"git commit -m {shlex.quote(message)} -- {shlex.quote(str(stack_file or '.'))}")
    return steps


def endpoint_problem(
    phase: str, canary_percent: float, canary_is_scaling_target: bool, rollout: Progress | None = None
) -> str | None:
    """Why the deployed endpoint is not ready for this edit, if it is not (pure).

    The first edit needs a finished rollout: the canary at 100 % *and* a ``completed``
    record, because the weights alone look the same while the last step still bakes.
    """
    if phase == "shift" and canary_percent < 100 - TOLERANCE:
        return (
            f"the canary takes {canary_percent:.1f} % of traffic: finish the rollout first "
            "(modelfleet rollout), or pass --force"
        )
    if phase == "shift" and (rollout is None or rollout.phase is not Phase.COMPLETED):
        recorded = rollout.describe() if rollout else "none recorded"
        return (
            f"the canary takes 100 % but its last bake has not completed (progress: {recorded}): "
            "run modelfleet rollout to finish it, or pass --force"
        )
    if phase == "remove" and (canary_percent > TOLERANCE or canary_is_scaling_target):
        return (
            "the first promote edit is not deployed yet (the canary still has traffic or a scaling "
            "target): run pulumi up first, or pass --force"
        )
    return None
