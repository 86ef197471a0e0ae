"""Values derived for a new model or environment (pure: no files, no Pulumi).

Sizing follows the load test's rule (``infra.ops.sizing.recommend_target``): a
target of invocations per instance per minute is the rate one instance serves
inside its SLO, less headroom. Without a measured rate, the rate is *assumed*:
every worker (a vCPU on CPU instances, a GPU on GPU instances or replicas)
answers one request at a time and each takes the whole p99 objective. That is
the slowest service still meeting the SLO, so the estimate errs towards more
instances; ``modelfleet loadtest`` replaces it with a measurement.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from ipaddress import IPv4Network

from infra.instances import InstanceType
from infra.ops.sizing import recommend_target

# Fewest instances per tier: prod keeps two so one can fail or be replaced
# (the pack's sagemaker-variant-min-instances); elsewhere one is enough.
TIER_MIN_INSTANCES = {"dev": 1, "staging": 1, "prod": 2}
DEFAULT_HEADROOM = 0.5  # AWS load-testing guidance, as `modelfleet loadtest` uses
MAX_INSTANCES = 100  # the catalog's upper bound for autoscaling.max_instances


class CannotDerive(ValueError):
    """The inputs cannot give a valid value (too much load for the schema's bounds, no free range)."""


@dataclass(frozen=True)
class Sizing:
    rate_per_instance: float  # requests/s one instance (or replica) serves inside the SLO
    measured: bool  # False: the assumption in this module's docstring
    target_per_minute: int  # target tracking: invocations per instance per minute
    needed_at_peak: int  # instances that carry the peak at the target
    min_instances: int
    max_instances: int

    @property
    def basis(self) -> str:
        how = "measured" if self.measured else "assumed: 1 request at a time per vCPU or GPU, taking the p99"
        return f"{self.rate_per_instance:g} req/s per instance ({how}), {DEFAULT_HEADROOM:.0%} headroom"


def workers(instance: InstanceType | None, gpus_per_replica: int = 1) -> int:
    """Requests served at once: GPUs on GPU hardware, vCPUs otherwise; an EKS replica's GPUs."""
    if instance is None:
        return gpus_per_replica
    return instance.gpus or instance.vcpus


def assumed_rate(worker_count: int, p99_ms: int) -> float:
    return worker_count * 1000 / p99_ms


def size(
    peak_rps: float,
    p99_ms: int,
    worker_count: int,
    tier: str,
    measured_rate: float | None = None,
    headroom: float = DEFAULT_HEADROOM,
) -> Sizing:
    """Autoscaling for ``peak_rps``: the floor from the tier, the ceiling that carries the peak."""
    if peak_rps <= 0 or p99_ms <= 0:
        raise CannotDerive("peak requests/s and the p99 objective must be positive")
    rate = measured_rate if measured_rate is not None else assumed_rate(worker_count, p99_ms)
    target = recommend_target(rate, headroom)
    needed = max(1, math.ceil(peak_rps * 60 / target))
    low = TIER_MIN_INSTANCES.get(tier, 1)
    high = max(low, needed)
    if high > MAX_INSTANCES:
        raise CannotDerive(
            f"{peak_rps:g} req/s at {target} invocations per instance per minute needs {needed} "
            f"instances, more than {MAX_INSTANCES}: choose a larger instance type, or measure the "
            "real rate with `modelfleet loadtest` and pass --rate-per-instance"
        )
    return Sizing(round(rate, 3), measured_rate is not None, target, needed, low, high)


def overlapping(cidr: IPv4Network, others: Mapping[str, IPv4Network]) -> list[str]:
    """Names of the environments whose VPC range overlaps ``cidr``."""
    return sorted(name for name, other in others.items() if cidr.overlaps(other))


def _candidates(prefix: int) -> Iterable[IPv4Network]:
    """10.10, 10.20, ... first (the shipped stacks' pattern), then every other block of 10/8."""
    step = 1 << (32 - prefix)
    tens = [IPv4Network(f"10.{n}.0.0/{prefix}") for n in range(10, 256, 10)]
    yield from tens
    for start in range(int(IPv4Network("10.0.0.0/8").network_address), 1 << 32, step):
        net = IPv4Network((start, prefix))
        if not net.subnet_of(IPv4Network("10.0.0.0/8")):
            return
        if net not in tens:
            yield net


def choose_cidr(taken: Iterable[IPv4Network], prefix: int = 16) -> IPv4Network:
    """The first free ``/prefix`` in 10/8 that overlaps none of ``taken``."""
    used = list(taken)
    for candidate in _candidates(prefix):
        if not any(candidate.overlaps(other) for other in used):
            return candidate
    raise CannotDerive(f"no /{prefix} left in 10.0.0.0/8 that avoids the other environments")
