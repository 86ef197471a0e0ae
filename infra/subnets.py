"""CIDR arithmetic for the network layout: pure functions, no Pulumi.

Kept apart from the settings and the component so that the subnet plan can be
tested exhaustively without mocks, and so both use exactly the same maths.
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Network
from itertools import combinations

# RFC 1918 ranges. AWS accepts other ranges for a VPC, but peering, VPN and
# on-premises routing all assume these, so modelfleet requires them.
PRIVATE_RANGES = (
    IPv4Network("10.0.0.0/8"),
    IPv4Network("172.16.0.0/12"),
    IPv4Network("192.168.0.0/16"),
)


class SubnetsDoNotFit(ValueError):
    """The requested subnets need more address space than the VPC has."""


def is_rfc1918(network: IPv4Network) -> bool:
    return any(network.subnet_of(private) for private in PRIVATE_RANGES)


def allocate(
    vpc: IPv4Network, prefixes: Sequence[int], taken: Sequence[IPv4Network] = ()
) -> list[IPv4Network]:
    """Place subnets of the given prefix lengths in ``vpc`` around those already ``taken``.

    First fit in address order, largest subnets first, so every block is
    naturally aligned and little space is lost; the result keeps the input
    order. The layout is deterministic, so re-planning never moves a subnet.
    """
    placed = list(taken)
    result: list[IPv4Network] = [vpc] * len(prefixes)
    for index in sorted(range(len(prefixes)), key=lambda i: prefixes[i]):
        prefix = prefixes[index]
        if prefix < vpc.prefixlen:
            raise SubnetsDoNotFit(f"a /{prefix} subnet is larger than the /{vpc.prefixlen} VPC")
        free = (c for c in vpc.subnets(new_prefix=prefix) if not any(c.overlaps(p) for p in placed))
        chosen = next(free, None)
        if chosen is None:
            wanted = sum(1 << (32 - p) for p in prefixes) + sum(t.num_addresses for t in taken)
            raise SubnetsDoNotFit(
                f"the subnets need {wanted} addresses but {vpc} has {vpc.num_addresses}"
                if wanted > vpc.num_addresses
                else f"no free /{prefix} block is left in {vpc}"
            )
        result[index] = chosen
        placed.append(chosen)
    return result


def overlapping_pairs(networks: Sequence[IPv4Network]) -> list[tuple[int, int]]:
    """Indexes ``(i, j)``, ``i < j``, of every pair of networks that overlap."""
    return [(i, j) for i, j in combinations(range(len(networks)), 2) if networks[i].overlaps(networks[j])]
