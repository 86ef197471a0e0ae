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


def allocate(vpc: IPv4Network, prefixes: Sequence[int]) -> list[IPv4Network]:
    """Pack subnets of the given prefix lengths into ``vpc`` in address order.

    Largest subnets are placed first so that every block is naturally aligned
    and no space is lost to fragmentation; the result keeps the input order.
    The layout is deterministic, so re-planning never moves a subnet.
    """
    result: list[IPv4Network | None] = [None] * len(prefixes)
    cursor = int(vpc.network_address)
    end = int(vpc.broadcast_address) + 1
    for index in sorted(range(len(prefixes)), key=lambda i: prefixes[i]):
        prefix = prefixes[index]
        if prefix < vpc.prefixlen:
            raise SubnetsDoNotFit(f"a /{prefix} subnet is larger than the /{vpc.prefixlen} VPC")
        size = 1 << (32 - prefix)
        start = -(-cursor // size) * size
        if start + size > end:
            wanted = sum(1 << (32 - p) for p in prefixes)
            raise SubnetsDoNotFit(
                f"the subnets need {wanted} addresses but {vpc} has {vpc.num_addresses}"
            )
        result[index] = IPv4Network((start, prefix))
        cursor = start + size
    return [network for network in result if network is not None]


def overlapping_pairs(networks: Sequence[IPv4Network]) -> list[tuple[int, int]]:
    """Indexes ``(i, j)``, ``i < j``, of every pair of networks that overlap."""
    return [
        (i, j)
        for i, j in combinations(range(len(networks)), 2)
        if networks[i].overlaps(networks[j])
    ]
