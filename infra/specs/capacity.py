"""Capacity and quota arithmetic, and the canary rule it rests on (pure): one owner for all three.

Quotas count at *maximum* scale (autoscaling max, HPA maxReplicas): what a team
can end up paying for on a bad day. ``team_capacity`` counts it from the settings,
so ``new-model`` can refuse a model before planning; the pack's
``team-gpu-quota`` and ``team-instance-quota`` count the same thing over a plan
(``policies.rules.capacity.team_usage``) with this module's quota lookup and
units, and a test checks both counts agree on every shipped stack.

The canary rule: a canary at weight 0 takes no traffic, so it gets no scaling
target and counts at its ``instance_count``. Dropping the target in one
``pulumi up`` is what lets the next one remove the variant: SageMaker refuses to
remove a variant that is still a scaling target (``modelfleet promote``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from infra.contracts import instances
from infra.settings.catalog import Backend, ModelSettings

QUOTA_RULES = {"gpus": "team-gpu-quota", "instances": "team-instance-quota"}
UNITS = {"gpus": "GPUs", "instances": "instances or replicas"}


def canary_scales(weight: float) -> bool:
    """Whether a canary at ``weight`` gets a scaling target (and counts at the scaling maximum)."""
    return weight > 0


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
        count += scaling.max_instances if canary_scales(canary.weight) else canary.instance_count
    shape = instances.lookup(model.instance_type or "")
    return Capacity(count, count * (shape.gpus if shape else 0))


def team_capacity(models: Iterable[ModelSettings]) -> dict[str, Capacity]:
    totals: dict[str, Capacity] = {}
    for model in models:
        totals[model.team] = totals.get(model.team, Capacity()) + model_capacity(model)
    return totals


def quota_for(config: Mapping[str, Any], team: str) -> int:
    """A team's quota from one quota rule's config: its own entry, else the rule's default."""
    return int(config["quotas"].get(team, config["default_quota"]))


def quota_of(properties: Mapping[str, Mapping[str, Any]], rule: str, team: str) -> int:
    """A team's quota from policy settings (``infra.plan.policy.PolicySettings.properties``)."""
    return quota_for(properties[rule], team)
