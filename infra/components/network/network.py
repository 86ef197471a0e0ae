"""The VPC every other layer runs in: subnets per AZ, NAT, routes, endpoints, flow logs.

Private subnets hold everything that serves models; public subnets hold only NAT
gateways and internet-facing load balancers. Both carry the role tags the AWS
Load Balancer Controller uses to discover them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.components.network.flow_logs import FlowLogs, FlowLogsArgs
from infra.components.network.vpc_endpoints import VpcEndpoints, VpcEndpointsArgs
from infra.specs import naming
from infra.specs.tags import named

PUBLIC_ELB_TAG = {"kubernetes.io/role/elb": "1"}
INTERNAL_ELB_TAG = {"kubernetes.io/role/internal-elb": "1"}


@dataclass
class NetworkArgs:
    """The VPC's address plan, zones, egress and endpoints, and how its flow logs are kept."""

    environment: str  # the stack name: in Name tags, the flow log group's name and its key alias
    region: str  # the stack's region: endpoint service names and the flow logs' grants
    account_id: pulumi.Input[str]  # the stack's account, for the endpoints' and flow logs' policies
    partition: pulumi.Input[str]  # aws, aws-cn or aws-us-gov: for the flow logs' ARNs
    cidr: str  # the VPC's IPv4 CIDR block
    availability_zones: Sequence[str]  # zone names, e.g. eu-west-1a: one public and one private subnet each
    public_subnet_cidrs: Sequence[str]  # one per AZ, same order
    private_subnet_cidrs: Sequence[str]  # one per AZ, same order
    nat_gateway_count: int  # 0 (endpoints only), 1 (shared) or one per AZ
    interface_endpoints: Sequence[str]  # AWS services given interface endpoints, e.g. "ecr.dkr"
    flow_log_retention_days: int  # days; CloudWatch Logs accepts only its fixed set of values
    flow_log_traffic_type: str  # ALL, ACCEPT or REJECT: which flows are recorded
    flow_log_aggregation_seconds: int  # 60 or 600: how long flows are aggregated into one record
    tags: Mapping[str, str]  # the stack's tags, on every taggable resource of the network
    # protect_stateful: Pulumi won't delete the NAT addresses (partners allow-list them) or the flow logs
    protect: bool = False


class Network(pulumi.ComponentResource):
    """The VPC every other layer runs in: private subnets serve models, public ones hold only NAT and ALBs."""

    vpc: aws.ec2.Vpc
    public_subnets: list[aws.ec2.Subnet]
    private_subnets: list[aws.ec2.Subnet]
    nat_gateways: list[aws.ec2.NatGateway]
    private_route_tables: list[aws.ec2.RouteTable]
    endpoints: VpcEndpoints
    flow_logs: FlowLogs

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("modelfleet:network:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        label = naming.prefix(args.environment)
        zones = list(args.availability_zones)
        if not len(zones) == len(args.public_subnet_cidrs) == len(args.private_subnet_cidrs):
            raise ValueError("NetworkArgs needs exactly one public and one private subnet per AZ")
        if args.nat_gateway_count not in (0, 1, len(zones)):
            raise ValueError("nat_gateway_count must be 0, 1 or one per AZ")

        self.vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.cidr,
            enable_dns_support=True,  # interface endpoints' private DNS needs both
            enable_dns_hostnames=True,
            tags=named(args.tags, label),
            opts=child,
        )
        # Adopting the default security group with no rules strips it, so nothing
        # that lands in it by accident can talk to anything.
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg",
            vpc_id=self.vpc.id,
            ingress=[],
            egress=[],
            tags=named(args.tags, f"{label}-default-deny"),
            opts=child,
        )
        # No NAT means no internet at all: then there is no internet gateway either.
        igw = (
            aws.ec2.InternetGateway(
                f"{name}-igw", vpc_id=self.vpc.id, tags=named(args.tags, label), opts=child
            )
            if args.nat_gateway_count
            else None
        )

        self.public_subnets, self.private_subnets = [], []
        for zone, public_cidr, private_cidr in zip(
            zones, args.public_subnet_cidrs, args.private_subnet_cidrs, strict=True
        ):
            az = naming.az_suffix(zone)
            self.public_subnets.append(
                aws.ec2.Subnet(
                    f"{name}-public-{az}",
                    vpc_id=self.vpc.id,
                    cidr_block=public_cidr,
                    availability_zone=zone,
                    map_public_ip_on_launch=False,  # only NAT and load balancers live here
                    tags=named({**args.tags, **PUBLIC_ELB_TAG, "tier": "public"}, f"{label}-public-{az}"),
                    opts=child,
                )
            )
            self.private_subnets.append(
                aws.ec2.Subnet(
                    f"{name}-private-{az}",
                    vpc_id=self.vpc.id,
                    cidr_block=private_cidr,
                    availability_zone=zone,
                    tags=named(
                        {**args.tags, **INTERNAL_ELB_TAG, "tier": "private"},
                        f"{label}-private-{az}",
                    ),
                    opts=child,
                )
            )

        public_routes = aws.ec2.RouteTable(
            f"{name}-public",
            vpc_id=self.vpc.id,
            tags=named(args.tags, f"{label}-public"),
            opts=child,
        )
        if igw is not None:
            aws.ec2.Route(
                f"{name}-public-default",
                route_table_id=public_routes.id,
                destination_cidr_block="0.0.0.0/0",
                gateway_id=igw.id,
                opts=child,
            )
        for zone, subnet in zip(zones, self.public_subnets, strict=True):
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{naming.az_suffix(zone)}",
                subnet_id=subnet.id,
                route_table_id=public_routes.id,
                opts=child,
            )

        self.nat_gateways = []
        for zone, subnet in zip(zones[: args.nat_gateway_count], self.public_subnets, strict=False):
            az = naming.az_suffix(zone)
            # Partners allow-list the NAT addresses, so in prod they outlive a stack teardown.
            address = aws.ec2.Eip(
                f"{name}-nat-{az}",
                domain="vpc",
                tags=named(args.tags, f"{label}-nat-{az}"),
                opts=pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect),
            )
            self.nat_gateways.append(
                aws.ec2.NatGateway(
                    f"{name}-nat-{az}",
                    allocation_id=address.allocation_id,
                    subnet_id=subnet.id,
                    connectivity_type="public",
                    tags=named(args.tags, f"{label}-nat-{az}"),
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[igw] if igw else []),
                )
            )

        # One private route table per AZ whatever the NAT strategy, so moving from
        # one NAT gateway to one per AZ changes routes only, never subnets.
        self.private_route_tables = []
        for index, (zone, subnet) in enumerate(zip(zones, self.private_subnets, strict=True)):
            az = naming.az_suffix(zone)
            table = aws.ec2.RouteTable(
                f"{name}-private-{az}",
                vpc_id=self.vpc.id,
                tags=named(args.tags, f"{label}-private-{az}"),
                opts=child,
            )
            if self.nat_gateways:
                aws.ec2.Route(
                    f"{name}-private-{az}-default",
                    route_table_id=table.id,
                    destination_cidr_block="0.0.0.0/0",
                    nat_gateway_id=self.nat_gateways[index % len(self.nat_gateways)].id,
                    opts=child,
                )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{az}", subnet_id=subnet.id, route_table_id=table.id, opts=child
            )
            self.private_route_tables.append(table)

        self.endpoints = VpcEndpoints(
            f"{name}-endpoints",
            VpcEndpointsArgs(
                vpc_id=self.vpc.id,
                vpc_cidr=args.cidr,
                region=args.region,
                account_id=args.account_id,
                subnet_ids=[s.id for s in self.private_subnets],
                route_table_ids=[t.id for t in self.private_route_tables],
                services=args.interface_endpoints,
                name_prefix=label,
                tags=args.tags,
            ),
            opts=child,
        )
        self.flow_logs = FlowLogs(
            f"{name}-flow-logs",
            FlowLogsArgs(
                vpc_id=self.vpc.id,
                log_group_name=naming.log_group(args.environment, "vpc-flow-logs"),
                key_alias=naming.name(args.environment, "flow-logs"),
                region=args.region,
                account_id=args.account_id,
                partition=args.partition,
                tags=args.tags,
                retention_days=args.flow_log_retention_days,
                traffic_type=args.flow_log_traffic_type,
                max_aggregation_interval_seconds=args.flow_log_aggregation_seconds,
                protect=args.protect,
            ),
            opts=child,
        )

        self.vpc_id = self.vpc.id
        self.public_subnet_ids = pulumi.Output.all(*[s.id for s in self.public_subnets])
        self.private_subnet_ids = pulumi.Output.all(*[s.id for s in self.private_subnets])
        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "public_subnet_ids": self.public_subnet_ids,
                "private_subnet_ids": self.private_subnet_ids,
                "nat_gateway_ids": [n.id for n in self.nat_gateways],
                "flow_log_group": self.flow_logs.log_group.name,
            }
        )
