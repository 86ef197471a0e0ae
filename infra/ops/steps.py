"""Which rollout steps remain, decided from the canary's current share (pure).

The endpoint's weights say which step a rollout reached, so a rerun resumes
there. At 100 % they cannot say whether the last bake finished: only a
``completed`` progress record does (``progress``), and without one the last step
is baked again, never assumed healthy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

TOLERANCE = 0.01  # weights are floats; 25 and 25.000001 are the same step


@dataclass(frozen=True)
class Step:
    canary_percent: int
    shift: bool  # False: the split is already here (a resumed step), bake it again


def plan_steps(current_percent: float, steps_percent: Sequence[int], final_bake_done: bool) -> list[Step]:
    """Steps still to take from ``current_percent``.

    A rollout interrupted while baking a step resumes by baking that step again
    before moving on, so no step counts as healthy without a full bake; the last
    one too, unless ``final_bake_done`` says it ran in full.
    """
    if current_percent >= 100 - TOLERANCE:
        return [] if final_bake_done else [Step(100, shift=False)]
    resumed = [Step(s, shift=False) for s in steps_percent if abs(s - current_percent) <= TOLERANCE and s > 0]
    ahead = [Step(s, shift=True) for s in steps_percent if s > current_percent + TOLERANCE]
    return resumed[:1] + ahead
