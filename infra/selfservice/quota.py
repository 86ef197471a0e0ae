"""Whether a new model fits its team's quotas, with the sum that breaks one spelled out (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from infra.settings.catalog import ModelSettings
from infra.specs.capacity import QUOTA_RULES, UNITS, Capacity, model_capacity, quota_of, team_capacity


def quota_problems(
    existing: Iterable[ModelSettings],
    new: ModelSettings,
    properties: Mapping[str, Mapping[str, Any]],
    enforced: Iterable[str],
    source: str,
) -> list[str]:
    """One sentence per quota the new model would exceed, with the sum that exceeds it."""
    team = new.team
    before = team_capacity(m for m in existing if m.name != new.name).get(team, Capacity())
    adds = model_capacity(new)
    problems = []
    for what, rule in QUOTA_RULES.items():
        if rule not in enforced:
            continue
        quota = quota_of(properties, rule, team)
        now, more = getattr(before, what), getattr(adds, what)
        if now + more > quota:
            unit = UNITS[what]
            problems.append(
                f"team {team} would scale to {now + more} {unit} ({now} today + {more} for "
                f"{new.name} at max scale); its quota is {quota} ({source}: {rule}.quotas.{team})"
            )
    return problems
