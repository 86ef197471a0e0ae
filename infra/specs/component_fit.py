"""Whether inference components fit their shared endpoint's instances (pure, tested without mocks).

A copy is placed whole on one instance, so each reservation must fit one
instance, and the copies every component keeps at its minimum must pack onto
the endpoint's minimum instances, or SageMaker leaves them unplaced
(``PlacementStatus``) until managed scaling adds instances. Packing is
first-fit decreasing over accelerators, vCPUs and memory: it never says
"fits" for copies that cannot be placed, and rarely refuses a placement that
exists.

SageMaker publishes no figure for how much of an instance's memory a component
may reserve. ``HOST_MEMORY_SHARE`` keeps a tenth back for the SageMaker agent
and the OS, as the EKS pools do for the kubelet; it is our margin, not AWS's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from infra.contracts import instances

HOST_MEMORY_SHARE = 0.9  # share of an instance's memory components may reserve (our margin)
MIB_PER_GIB = 1024


@dataclass(frozen=True)
class Reservation:
    """What one copy of a component reserves on the instance it is placed on."""

    name: str  # the model placed, for messages
    accelerators: int  # whole GPUs
    cpu_cores: float  # vCPUs
    memory_mib: int  # MiB

    def describe(self) -> str:
        gpus = f"{self.accelerators} GPU(s), " if self.accelerators else ""
        return f"{gpus}{self.cpu_cores:g} vCPU(s), {self.memory_mib} MiB"


@dataclass(frozen=True)
class HostCapacity:
    """What one instance offers components."""

    accelerators: int
    cpu_cores: float
    memory_mib: int

    def describe(self) -> str:
        gpus = f"{self.accelerators} GPU(s), " if self.accelerators else ""
        return f"{gpus}{self.cpu_cores:g} vCPU(s), {self.memory_mib} MiB"


def host_capacity(shape: instances.InstanceType) -> HostCapacity:
    """The reservable part of one instance of ``shape``."""
    return HostCapacity(
        shape.gpus, float(shape.vcpus), int(shape.memory_gib * MIB_PER_GIB * HOST_MEMORY_SHARE)
    )


def reservation_problems(copy: Reservation, shape: instances.InstanceType) -> list[tuple[str, str]]:
    """(key, why) for each part of one copy's reservation that no instance of ``shape`` can hold."""
    host = host_capacity(shape)
    found = []
    if copy.accelerators > host.accelerators:
        found.append(
            (
                "accelerators",
                f"{shape.name} has {host.accelerators} GPU(s); a copy reserves {copy.accelerators}",
            )
        )
    if copy.cpu_cores > host.cpu_cores:
        found.append(
            ("cpu_cores", f"{shape.name} has {host.cpu_cores:g} vCPU(s); a copy reserves {copy.cpu_cores:g}")
        )
    if copy.memory_mib > host.memory_mib:
        found.append(
            (
                "memory_mib",
                f"{shape.name} offers components {host.memory_mib} MiB ({HOST_MEMORY_SHARE:.0%} of "
                f"{shape.memory_gib} GiB); a copy reserves {copy.memory_mib}",
            )
        )
    return found


def pack(copies: Sequence[Reservation], host: HostCapacity, hosts: int) -> list[Reservation]:
    """The copies that find no room on ``hosts`` instances (first-fit decreasing); empty when all fit."""
    free = [[host.accelerators, host.cpu_cores, host.memory_mib] for _ in range(hosts)]
    ordered = sorted(copies, key=lambda c: (c.accelerators, c.memory_mib, c.cpu_cores), reverse=True)
    unplaced = []
    for copy in ordered:
        need = (copy.accelerators, copy.cpu_cores, copy.memory_mib)
        slot = next((room for room in free if all(n <= r for n, r in zip(need, room, strict=True))), None)
        if slot is None:
            unplaced.append(copy)
            continue
        for index, amount in enumerate(need):
            slot[index] -= amount
    return unplaced


def minimum_fit_problem(
    minimum: Sequence[tuple[Reservation, int]], shape: instances.InstanceType, hosts: int
) -> str | None:
    """Why the components' minimum copies do not fit ``hosts`` instances of ``shape`` (None when they do)."""
    copies = [copy for copy, count in minimum for _ in range(count)]
    unplaced = pack(copies, host_capacity(shape), hosts)
    if not unplaced:
        return None
    wanted = ", ".join(f"{copy.name} {count} x ({copy.describe()})" for copy, count in minimum if count)
    left = ", ".join(sorted({c.name for c in unplaced}))
    return (
        f"the components' min_copies need room for {wanted}; {hosts} instance(s) of {shape.name} "
        f"(each offering {host_capacity(shape).describe()}) leave copies of {left} unplaced: raise "
        f"min_instances or lower min_copies"
    )


def copy_share(copy: Reservation, shape: instances.InstanceType) -> float:
    """The share of one instance a copy takes, by its scarcest reservation (0-1): how its cost is split.

    A copy holding one of four GPUs takes a quarter of the instance even if it reserves little
    memory, since no other copy can use that GPU.
    """
    host = host_capacity(shape)
    parts = [copy.cpu_cores / host.cpu_cores, copy.memory_mib / host.memory_mib]
    if host.accelerators:
        parts.append(copy.accelerators / host.accelerators)
    return min(1.0, max(parts))
