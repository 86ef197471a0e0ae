"""Whether a new model fits its team's quotas, with the sum that breaks one spelled out (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from infra.settings.catalog import ModelSettings
from infra.specs.capacity import QUOTA_RULES, UNITS, Capacity, quota_of, team_capacity


def quota_problems(
    existing: Iterable[ModelSettings],
    new: ModelSettings,
    properties: Mapping[str, Mapping[str, Any]],
    enforced: Iterable[str],
    source: str,
    pool_gpus: Mapping[str, int] | None = None,
) -> list[str]:
    """One sentence per quota the new model would exceed, with the sum that exceeds it.

    With ``pool_gpus`` (pool -> GPU ceiling), EKS GPUs count as the policy pack counts
    them: each team's share of a pool at most at the pool's ceiling.
    """
    team = new.team
    others = [m for m in existing if m.name != new.name]
    before = team_capacity(others, pool_gpus).get(team, Capacity())
    after = team_capacity([*others, new], pool_gpus).get(team, Capacity())
    adds = Capacity(after.instances - before.instances, after.gpus - before.gpus)
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
