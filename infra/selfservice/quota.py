"""Per-team capacity at maximum scale, counted from the settings (pure).

The pack's ``team-gpu-quota`` and ``team-instance-quota`` count the same thing
over a plan (``policies.rules.capacity.team_usage``); counting it here lets
``new-model`` refuse a model that would break a quota before planning, with the
arithmetic spelled out. A test checks both counts agree on every shipped stack.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from infra.contracts import instances
from infra.settings.catalog import Backend, ModelSettings

QUOTA_RULES = {"gpus": "team-gpu-quota", "instances": "team-instance-quota"}


@dataclass(frozen=True)
class Capacity:
    instances: int = 0  # SageMaker instances plus EKS replicas
    gpus: int = 0

    def __add__(self, other: Capacity) -> Capacity:
        return Capacity(self.instances + other.instances, self.gpus + other.gpus)


def model_capacity(model: ModelSettings) -> Capacity:
    """What one model can scale to, variant by variant, as the program declares it."""
    scaling = model.autoscaling
    if scaling is None:  # serverless: no instances of its own
        return Capacity()
    if model.backend is Backend.EKS and model.eks is not None:
        replicas = scaling.max_instances * len(model.variants.items())  # every variant has an HPA
        return Capacity(replicas, replicas * model.eks.gpus)
    canary = model.variants.canary
    count = scaling.max_instances
    if canary is not None:
        # A canary at weight 0 has no scaling target: it stays at its instance_count.
        count += scaling.max_instances if canary.weight > 0 else canary.instance_count
    shape = instances.lookup(model.instance_type or "")
    return Capacity(count, count * (shape.gpus if shape else 0))


def team_capacity(models: Iterable[ModelSettings]) -> dict[str, Capacity]:
    totals: dict[str, Capacity] = {}
    for model in models:
        totals[model.team] = totals.get(model.team, Capacity()) + model_capacity(model)
    return totals


def quota_of(properties: Mapping[str, Mapping[str, Any]], rule: str, team: str) -> int:
    """A team's quota from policy settings (``infra.plan.policy.PolicySettings.properties``)."""
    config = properties[rule]
    return int(config["quotas"].get(team, config["default_quota"]))


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
            unit = "GPUs" if what == "gpus" else "instances/replicas"
            problems.append(
                f"team {team} would scale to {now + more} {unit} ({now} today + {more} for "
                f"{new.name} at max scale); its quota is {quota} ({source}: {rule}.quotas.{team})"
            )
    return problems
