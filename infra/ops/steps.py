"""Which rollout steps remain, decided from the canary's current share alone (pure).

Deciding from the endpoint's weights, not from a record of past runs, is what
makes a rerun resume an interrupted rollout and a finished one do nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

TOLERANCE = 0.01  # weights are floats; 25 and 25.000001 are the same step


@dataclass(frozen=True)
class Step:
    canary_percent: int
    shift: bool  # False: the split is already here (a resumed step), bake it again


def plan_steps(current_percent: float, steps_percent: Sequence[int]) -> list[Step]:
    """Steps still to take from ``current_percent``.

    A rollout interrupted while baking a step resumes by baking that step again
    before moving on, so no step counts as healthy without a full bake.
    """
    if current_percent >= 100 - TOLERANCE:
        return []
    resumed = [Step(s, shift=False) for s in steps_percent if abs(s - current_percent) <= TOLERANCE and s > 0]
    ahead = [Step(s, shift=True) for s in steps_percent if s > current_percent + TOLERANCE]
    return resumed[:1] + ahead
