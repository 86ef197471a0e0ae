"""Values derived for a new model or environment (pure: no files, no Pulumi).

Sizing follows the load test's rule (``infra.ops.sizing.recommend_target``): a
target of invocations per instance per minute is the rate one instance serves
inside its SLO, less headroom. Without a measured rate, the rate is *assumed*:
every worker (a vCPU on CPU instances, a GPU on GPU instances or replicas)
answers one request at a time and each takes the whole p99 objective. That is
the slowest service still meeting the SLO, so the estimate errs towards more
instances; ``modelfleet loadtest`` replaces it with a measurement.

Some objectives no instance meets whatever the count: a p99 below the round trip
to the model server (``MIN_P99_LATENCY_MS``), or one whose assumed rate would ask
target tracking for more than the catalog allows. Those are refused with the reason.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from ipaddress import IPv4Network

from infra.contracts.instances import InstanceType
from infra.ops.sizing import recommend_target
from infra.settings.catalog import MAX_INSTANCES, MAX_TARGET_INVOCATIONS_PER_MINUTE, MIN_P99_LATENCY_MS
from infra.settings.tiers import TIERS, Tier

DEFAULT_HEADROOM = 0.5  # AWS load-testing guidance, as `modelfleet loadtest` uses


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
    if p99_ms < MIN_P99_LATENCY_MS:
        raise CannotDerive(
            f"--p99-ms {p99_ms}: no instance type can meet it; the round trip to the model server "
            f"alone takes {MIN_P99_LATENCY_MS} ms or more, so ask for {MIN_P99_LATENCY_MS} ms or above"
        )
    rate = measured_rate if measured_rate is not None else assumed_rate(worker_count, p99_ms)
    target = recommend_target(rate, headroom)
    if target > MAX_TARGET_INVOCATIONS_PER_MINUTE:
        how = (
            "measured"
            if measured_rate is not None
            else f"assumed for {worker_count} worker(s) at p99 {p99_ms} ms"
        )
        raise CannotDerive(
            f"{rate:g} req/s per instance ({how}) gives a target of {target:,} invocations per "
            f"instance per minute, above the {MAX_TARGET_INVOCATIONS_PER_MINUTE:,} the catalog allows: "
            "the sizing model vouches for no instance at that rate; measure with "
            "`modelfleet loadtest` and pass --rate-per-instance, or raise --p99-ms"
        )
    needed = max(1, math.ceil(peak_rps * 60 / target))
    low = TIERS[Tier(tier)].min_instances if tier in set(Tier) else 1
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


TEN_EIGHT = IPv4Network("10.0.0.0/8")


def _candidates(prefix: int, within: IPv4Network) -> Iterable[IPv4Network]:
    """In 10/8, 10.10, 10.20, ... first (the shipped stacks' pattern); then every block in order."""
    if prefix < within.prefixlen:
        return
    starts = [int(IPv4Network(f"10.{n}.0.0/16").network_address) for n in range(10, 256, 10)]
    size = 1 << (32 - prefix)
    # 10.N.0.0 starts a block of this size only when the size divides it (so never below /16 for N=10).
    tens = [IPv4Network((a, prefix)) for a in starts if within == TEN_EIGHT and a % size == 0]
    yield from tens
    for net in within.subnets(new_prefix=prefix):
        if net not in tens:
            yield net


def choose_cidr(
    taken: Iterable[IPv4Network], prefix: int = 16, within: IPv4Network = TEN_EIGHT
) -> IPv4Network:
    """The first free ``/prefix`` in ``within`` (10/8 by default) that overlaps none of ``taken``."""
    used = list(taken)
    for candidate in _candidates(prefix, within):
        if not any(candidate.overlaps(other) for other in used):
            return candidate
    raise CannotDerive(f"no /{prefix} left in {within} that avoids the other environments")


@dataclass(frozen=True)
class SubnetPrefixes:
    private: int
    public: int


def subnet_prefixes(
    vpc: IPv4Network,
    az_count: int,
    preferred: SubnetPrefixes,
    longest: SubnetPrefixes,
) -> SubnetPrefixes:
    """The tier's subnet sizes if they fit the VPC, else the largest that do.

    Private subnets hold nodes, pods and endpoints, so they keep their size
    longest: the public ones shrink first, then the private ones, one bit at a
    time. Private subnets fill the VPC from the bottom and public ones from the
    top (``infra.specs.subnets.per_az_slots``), so both fit when their sum does.
    """
    for private in range(max(preferred.private, vpc.prefixlen), longest.private + 1):
        for public in range(max(preferred.public, vpc.prefixlen), longest.public + 1):
            if az_count * ((1 << (32 - private)) + (1 << (32 - public))) <= vpc.num_addresses:
                return SubnetPrefixes(private, public)
    raise CannotDerive(
        f"{vpc} cannot hold {az_count} private and {az_count} public subnets of /{longest.private} "
        f"and /{longest.public}; use a larger VPC"
    )
