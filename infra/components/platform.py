"""The whole stack as one component: maps validated settings onto the layers.

This is the only component that sees ``PlatformSettings``; each layer below it
receives plain, typed Args. Cluster, GPU pools and model endpoints join here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from infra import tags
from infra.components.network import Network, NetworkArgs
from infra.settings import PlatformSettings


@dataclass
class PlatformArgs:
    settings: PlatformSettings
    availability_zones: Sequence[str]  # at least settings.network.az_count, region order
    account_id: pulumi.Input[str]
    partition: pulumi.Input[str]


def network_args(args: PlatformArgs) -> NetworkArgs:
    settings, net = args.settings, args.settings.network
    return NetworkArgs(
        environment=settings.environment,
        region=settings.region,
        account_id=args.account_id,
        partition=args.partition,
        cidr=str(net.cidr),
        availability_zones=list(args.availability_zones[: net.az_count]),
        public_subnet_cidrs=[str(c) for c in net.public_subnet_cidrs or []],
        private_subnet_cidrs=[str(c) for c in net.private_subnet_cidrs or []],
        nat_gateway_count=net.nat_gateway_count,
        interface_endpoints=list(net.interface_endpoints),
        flow_log_retention_days=net.flow_logs.retention_days,
        flow_log_traffic_type=net.flow_logs.traffic_type,
        flow_log_aggregation_seconds=net.flow_logs.max_aggregation_interval_seconds,
        tags=tags.base(settings),
        protect=settings.protect_stateful,
    )


class Platform(pulumi.ComponentResource):
    network: Network

    def __init__(self, name: str, args: PlatformArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("modelfleet:platform:Platform", name, None, opts)
        self.network = Network(
            f"{name}-network", network_args(args), pulumi.ResourceOptions(parent=self)
        )
        self.register_outputs({"vpc_id": self.network.vpc_id})
