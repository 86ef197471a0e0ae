"""Capacity and quota arithmetic, and the canary rule it rests on (pure): one owner for all three.

Quotas count at *maximum* scale (autoscaling max, HPA maxReplicas): what a team
can end up paying for on a bad day. ``team_capacity`` counts it from the settings,
so ``new-model`` can refuse a model before planning; the pack's
``team-gpu-quota`` and ``team-instance-quota`` count the same thing over a plan
(``policies.rules.capacity.team_usage``) with this module's quota lookup and
units, and a test checks both counts agree on every shipped stack.

A GPU pool bounds what the models on it can get: ``max_size`` nodes of its
largest instance type (``pool_ceiling``), which a managed node group enforces
with its maximum size and a Karpenter NodePool with its ``limits``. So a team's
EKS GPUs on a pool count at most at the pool's ceiling (``pool_capped``).

A model placed on a shared endpoint counts the GPUs one copy reserves times its
``component.max_copies``, and no instances: the shared endpoint's instances
belong to the platform (its settings size them, ``max_instances``), not to the
teams whose models it hosts, so they count against no team's instance quota.
Counting them per team would bill each team for a fleet it neither sizes nor
owns, and count the same instances once per team placed on it.

The canary rule: a canary at weight 0 takes no traffic, so it gets no scaling
target and counts at its ``instance_count``. Dropping the target in one
``pulumi up`` is what lets the next one remove the variant: SageMaker refuses to
remove a variant that is still a scaling target (``modelfleet promote``).

A shadow variant has no scaling target either: it counts at its ``instance_count``,
which its instances are, whatever share of traffic is copied to it.
"""

from __future__ import annotations

from collections import defaultdict
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
    if model.backend is Backend.SAGEMAKER and model.placed:
        reservation, component = model.reservation(), model.component
        if reservation is None or component is None:
            return Capacity()
        return Capacity(
            0, reservation.accelerators * component.max_copies
        )  # the instances are the platform's
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
    if model.variants.shadow is not None:
        count += model.variants.shadow.instance_count  # fixed: a shadow gets no scaling target
    shape = instances.lookup(model.instance_type or "")
    return Capacity(count, count * (shape.gpus if shape else 0))


@dataclass(frozen=True)
class PoolCeiling:
    """The most one GPU pool holds at once: ``max_size`` nodes of its largest instance type."""

    nodes: int
    gpus: int  # nodes x the most GPUs any of its instance types has
    vcpus: int  # nodes x the most vCPUs any of its instance types has


def pool_ceiling(instance_types: Iterable[str], max_size: int) -> PoolCeiling:
    """The ceiling of a pool of EC2 ``instance_types`` (g5.xlarge, ...) at ``max_size`` nodes."""
    shapes = [s for s in (instances.lookup(f"ml.{t}") for t in instance_types) if s]
    return PoolCeiling(
        max_size,
        max_size * max((s.gpus for s in shapes), default=0),
        max_size * max((s.vcpus for s in shapes), default=0),
    )


def pool_gpu_ceilings(pools: Iterable[Any]) -> dict[str, int]:
    """Each GPU pool's GPU ceiling by name, from the settings (``modelfleet:gpu_pools``)."""
    return {pool.name: pool_ceiling(pool.instance_types, pool.max_size).gpus for pool in pools}


def pool_capped(demand: Mapping[tuple[str, str], int], ceilings: Mapping[str, int]) -> dict[str, int]:
    """GPUs per team from (team, pool) -> GPUs at max scale: each pool's share capped at its GPU ceiling.

    A pool without a known ceiling caps nothing.
    """
    gpus: dict[str, int] = defaultdict(int)
    for (team, pool), wanted in demand.items():
        ceiling = ceilings.get(pool)
        gpus[team] += wanted if ceiling is None else min(wanted, ceiling)
    return dict(gpus)


def team_capacity(
    models: Iterable[ModelSettings], pool_gpus: Mapping[str, int] | None = None
) -> dict[str, Capacity]:
    """What each team can scale to; with ``pool_gpus`` (pool -> GPU ceiling) EKS GPUs are capped per pool.

    Without ``pool_gpus`` the count is the models' alone, which is never less.
    """
    totals: dict[str, Capacity] = {}
    on_pools: dict[tuple[str, str], int] = defaultdict(int)
    for model in models:
        capacity = model_capacity(model)
        if pool_gpus is not None and model.backend is Backend.EKS and model.eks is not None:
            on_pools[(model.team, model.eks.pool)] += capacity.gpus
            capacity = Capacity(capacity.instances, 0)
        totals[model.team] = totals.get(model.team, Capacity()) + capacity
    for team, gpus in pool_capped(on_pools, pool_gpus or {}).items():
        totals[team] = totals[team] + Capacity(0, gpus)
    return totals


def quota_for(config: Mapping[str, Any], team: str) -> int:
    """A team's quota from one quota rule's config: its own entry, else the rule's default."""
    return int(config["quotas"].get(team, config["default_quota"]))


def quota_of(properties: Mapping[str, Mapping[str, Any]], rule: str, team: str) -> int:
    """A team's quota from policy settings (``infra.plan.policy.PolicySettings.properties``)."""
    return quota_for(properties[rule], team)
