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


# AWS takes a VPC block of /16 to /28. modelfleet stops at /24: every AZ needs a
# private subnet (nodes, pods, endpoints) and a public one (NAT, load balancers),
# and below /24 three AZs of them leave nodes and pods no room.
AWS_LARGEST_VPC_PREFIX, AWS_SMALLEST_VPC_PREFIX = 16, 28
SMALLEST_VPC_PREFIX = 24
AWS_SMALLEST_SUBNET_PREFIX = 28


def vpc_cidr_problem(network: IPv4Network) -> str | None:
    """Why ``network`` cannot be a modelfleet VPC, in one sentence, or None."""
    prefix = network.prefixlen
    if prefix < AWS_LARGEST_VPC_PREFIX:
        return (
            f"a /{prefix} is larger than AWS allows for a VPC (/{AWS_LARGEST_VPC_PREFIX} to "
            f"/{AWS_SMALLEST_VPC_PREFIX}); use a /{AWS_LARGEST_VPC_PREFIX} inside it"
        )
    if prefix > SMALLEST_VPC_PREFIX:
        return (
            f"a /{prefix} is smaller than modelfleet lays out (/{AWS_LARGEST_VPC_PREFIX} to "
            f"/{SMALLEST_VPC_PREFIX}, though AWS allows /{AWS_SMALLEST_VPC_PREFIX}): each AZ needs a "
            "private subnet for nodes, pods and endpoints and a public one for NAT and load balancers"
        )
    if not is_rfc1918(network):
        return (
            "must be inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16: peering, VPN and "
            "on-premises routing assume private ranges"
        )
    return None


class SubnetsDoNotFit(ValueError):
    """The requested subnets need more address space than the VPC has."""


def is_rfc1918(network: IPv4Network) -> bool:
    return any(network.subnet_of(private) for private in PRIVATE_RANGES)


def per_az_slots(vpc: IPv4Network, prefix: int, count: int, *, from_top: bool = False) -> list[IPv4Network]:
    """Subnet ``i`` sits in slot ``i`` of its size, from the bottom (or top) of the VPC.

    Each AZ's subnet has a fixed place, so adding an AZ adds a subnet and never
    moves one (moving a subnet means replacing it, and everything in it).
    Private subnets count from the bottom and public ones from the top, so the
    two groups grow towards each other.
    """
    if prefix < vpc.prefixlen:
        raise SubnetsDoNotFit(f"a /{prefix} subnet is larger than the /{vpc.prefixlen} VPC")
    size = 1 << (32 - prefix)
    slots = vpc.num_addresses // size
    if count > slots:
        raise SubnetsDoNotFit(f"{vpc} has room for {slots} /{prefix} subnets, not {count}")
    base = int(vpc.network_address)
    indexes = [slots - 1 - i for i in range(count)] if from_top else list(range(count))
    return [IPv4Network((base + index * size, prefix)) for index in indexes]


def overlapping_pairs(networks: Sequence[IPv4Network]) -> list[tuple[int, int]]:
    """Indexes ``(i, j)``, ``i < j``, of every pair of networks that overlap."""
    return [(i, j) for i, j in combinations(range(len(networks)), 2) if networks[i].overlaps(networks[j])]
