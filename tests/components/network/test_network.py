"""The Network component under Pulumi's mocks: what it declares, per shape of input."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from infra.components.network.network import Network, NetworkArgs
from infra.plan import Plan, record
from infra.settings.platform import REQUIRED_INTERFACE_ENDPOINTS

TAGS = {"environment": "test", "owner": "ml-platform"}
ZONES = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]

SUBNET = "aws:ec2/subnet:Subnet"
NAT = "aws:ec2/natGateway:NatGateway"
ROUTE = "aws:ec2/route:Route"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"


def args(**changes) -> NetworkArgs:
    base = NetworkArgs(
        environment="test",
        region="eu-west-1",
        account_id="111122223333",
        partition="aws",
        cidr="10.0.0.0/16",
        availability_zones=ZONES,
        public_subnet_cidrs=["10.0.96.0/24", "10.0.97.0/24", "10.0.98.0/24"],
        private_subnet_cidrs=["10.0.0.0/19", "10.0.32.0/19", "10.0.64.0/19"],
        nat_gateway_count=3,
        interface_endpoints=list(REQUIRED_INTERFACE_ENDPOINTS),
        flow_log_retention_days=30,
        flow_log_traffic_type="ALL",
        flow_log_aggregation_seconds=60,
        tags=TAGS,
    )
    return replace(base, **changes)


def build(network_args: NetworkArgs) -> Plan:
    return record(lambda: Network("net", network_args), stack="test", region="eu-west-1")


@pytest.fixture(scope="module")
def plan() -> Plan:
    return build(args())


def test_vpc_has_dns_for_private_endpoints(plan):
    vpc = plan.get("aws:ec2/vpc:Vpc", "net-vpc")
    assert vpc.inputs["cidrBlock"] == "10.0.0.0/16"
    assert vpc.inputs["enableDnsSupport"] is True
    assert vpc.inputs["enableDnsHostnames"] is True


def test_one_public_and_one_private_subnet_per_az_with_elb_role_tags(plan):
    for zone, letter in zip(ZONES, "abc", strict=True):
        public = plan.get(SUBNET, f"net-public-{letter}")
        private = plan.get(SUBNET, f"net-private-{letter}")
        assert public.inputs["availabilityZone"] == private.inputs["availabilityZone"] == zone
        assert public.tags["kubernetes.io/role/elb"] == "1"
        assert private.tags["kubernetes.io/role/internal-elb"] == "1"
        assert public.inputs["mapPublicIpOnLaunch"] is False
    assert len(plan.of_type(SUBNET)) == 6


def test_per_az_nat_gives_each_private_route_table_its_own_gateway(plan):
    nats = plan.of_type(NAT)
    assert len(nats) == 3
    public_subnet_ids = {plan.get(SUBNET, f"net-public-{x}").id for x in "abc"}
    assert {n.inputs["subnetId"] for n in nats} == public_subnet_ids
    targets = {plan.get(ROUTE, f"net-private-{x}-default").inputs["natGatewayId"] for x in "abc"}
    assert targets == {n.id for n in nats}


def test_single_nat_is_shared_by_every_private_route_table():
    plan = build(args(nat_gateway_count=1))
    (nat,) = plan.of_type(NAT)
    targets = [plan.get(ROUTE, f"net-private-{x}-default").inputs["natGatewayId"] for x in "abc"]
    assert targets == [nat.id] * 3
    assert nat.inputs["subnetId"] == plan.get(SUBNET, "net-public-a").id


def test_no_nat_means_no_default_route_from_private_subnets():
    plan = build(args(nat_gateway_count=0))
    assert plan.of_type(NAT) == []
    assert plan.of_type("aws:ec2/internetGateway:InternetGateway") == []
    assert [r.name for r in plan.of_type(ROUTE)] == []
    defaults = [r for r in plan.of_type(ROUTE) if r.name.startswith("net-private-")]
    assert defaults == []
    assert len(plan.of_type("aws:ec2/routeTable:RouteTable")) == 4  # shape kept


def test_public_route_goes_to_the_internet_gateway(plan):
    route = plan.get(ROUTE, "net-public-default")
    assert route.inputs["gatewayId"] == plan.get("aws:ec2/internetGateway:InternetGateway", "net-igw").id
    assert route.inputs["destinationCidrBlock"] == "0.0.0.0/0"


def test_every_interface_endpoint_uses_private_dns_in_private_subnets(plan):
    private_ids = sorted(plan.get(SUBNET, f"net-private-{x}").id for x in "abc")
    sg = plan.get("aws:ec2/securityGroup:SecurityGroup", "net-endpoints-sg")
    interface = [e for e in plan.of_type(ENDPOINT) if e.inputs["vpcEndpointType"] == "Interface"]
    services = sorted(e.inputs["serviceName"].rsplit(".", 2)[-1] for e in interface)
    assert len(interface) == 7
    for endpoint in interface:
        assert endpoint.inputs["privateDnsEnabled"] is True
        assert sorted(endpoint.inputs["subnetIds"]) == private_ids
        assert endpoint.inputs["securityGroupIds"] == [sg.id]
    wanted = {f"com.amazonaws.eu-west-1.{s}" for s in REQUIRED_INTERFACE_ENDPOINTS}
    assert {e.inputs["serviceName"] for e in interface} == wanted, services


def test_s3_gateway_endpoint_serves_the_private_route_tables(plan):
    s3 = plan.get(ENDPOINT, "net-endpoints-s3")
    assert s3.inputs["vpcEndpointType"] == "Gateway"
    tables = sorted(plan.get("aws:ec2/routeTable:RouteTable", f"net-private-{x}").id for x in "abc")
    assert sorted(s3.inputs["routeTableIds"]) == tables
    own, layers = json.loads(s3.inputs["policy"])["Statement"]
    assert own["Condition"] == {
        "StringEquals": {"aws:PrincipalAccount": "111122223333", "aws:ResourceAccount": "111122223333"}
    }
    assert "s3:*" not in own["Action"] and "s3:DeleteObject" not in own["Action"]
    # ECR presigns layer URLs with its own account: no account condition may apply to them.
    assert layers == {
        "Sid": "EcrImageLayers", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::prod-eu-west-1-starport-layer-bucket/*",
    }  # fmt: skip


def _allows(policy: dict, principal_account: str, resource_account: str, action: str, resource: str) -> bool:
    """A small evaluator for the gateway policy's own statement shapes (Allow, StringEquals)."""
    import fnmatch

    context = {"aws:PrincipalAccount": principal_account, "aws:ResourceAccount": resource_account}
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        conditions = statement.get("Condition", {}).get("StringEquals", {})
        if (
            action in actions
            and fnmatch.fnmatch(resource, statement["Resource"])
            and all(context[key] == value for key, value in conditions.items())
        ):
            return True
    return False


@pytest.mark.parametrize("region", ["eu-west-1", "us-east-1", "cn-north-1"])
def test_nodes_pull_ecr_layers_and_read_our_artifacts_but_nothing_leaves_the_account(region):
    from infra.components.network.vpc_endpoints import s3_gateway_policy

    ours, aws_owned, theirs = "111122223333", "999988887777", "444455556666"
    partition = "aws-cn" if region.startswith("cn-") else "aws"
    policy = s3_gateway_policy(ours, region)
    layer = f"arn:{partition}:s3:::prod-{region}-starport-layer-bucket/sha256/abc"
    assert _allows(policy, aws_owned, aws_owned, "s3:GetObject", layer)  # ECR's presigned layer URL
    assert _allows(policy, ours, ours, "s3:GetObject", f"arn:{partition}:s3:::acme-ml/m/model.tar.gz")
    assert _allows(policy, ours, ours, "s3:PutObject", f"arn:{partition}:s3:::capture/x")
    assert not _allows(policy, ours, theirs, "s3:PutObject", f"arn:{partition}:s3:::exfil/x")
    assert not _allows(policy, theirs, theirs, "s3:GetObject", f"arn:{partition}:s3:::exfil/x")
    assert not _allows(policy, ours, ours, "s3:DeleteBucket", f"arn:{partition}:s3:::acme-ml")


def test_endpoint_security_group_allows_https_from_the_vpc_only(plan):
    rules = plan.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert [(r.inputs["fromPort"], r.inputs["toPort"], r.inputs["cidrIpv4"]) for r in rules] == [
        (443, 443, "10.0.0.0/16")
    ]
    sg = plan.get("aws:ec2/securityGroup:SecurityGroup", "net-endpoints-sg")
    assert "ingress" not in sg.inputs or sg.inputs["ingress"] == []


def test_default_security_group_is_stripped(plan):
    default = plan.get("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "net-default-sg")
    assert default.inputs["ingress"] == []
    assert default.inputs["egress"] == []


def test_flow_logs_go_to_an_encrypted_log_group_with_retention(plan):
    key = plan.get("aws:kms/key:Key", "net-flow-logs-log-kms-key")
    group = plan.get("aws:cloudwatch/logGroup:LogGroup", "net-flow-logs-log-group")
    flow = plan.get("aws:ec2/flowLog:FlowLog", "net-flow-logs-vpc")
    assert key.inputs["enableKeyRotation"] is True
    assert group.inputs["kmsKeyId"] == key.outputs["arn"]
    assert group.inputs["retentionInDays"] == 30
    assert group.inputs["name"] == "/modelfleet/test/vpc-flow-logs"
    assert flow.inputs["logDestination"] == group.outputs["arn"]
    assert flow.inputs["vpcId"] == plan.get("aws:ec2/vpc:Vpc", "net-vpc").id
    assert flow.inputs["trafficType"] == "ALL"


def test_logs_may_use_the_key_for_this_log_group_only(plan):
    policy = json.loads(plan.get("aws:kms/key:Key", "net-flow-logs-log-kms-key").inputs["policy"])
    service = next(s for s in policy["Statement"] if s.get("Sid") == "ServiceUsesKey")
    assert service["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    assert service["Condition"]["ArnEquals"] == {
        "kms:EncryptionContext:aws:logs:arn": (
            "arn:aws:logs:eu-west-1:111122223333:log-group:/modelfleet/test/vpc-flow-logs"
        )
    }


def test_flow_log_role_writes_to_its_log_group_only(plan):
    policy = json.loads(plan.get("aws:iam/rolePolicy:RolePolicy", "net-flow-logs-delivery").inputs["policy"])
    writes, describe = policy["Statement"]
    arn = plan.get("aws:cloudwatch/logGroup:LogGroup", "net-flow-logs-log-group").outputs["arn"]
    assert arn.endswith(":log-group:/modelfleet/test/vpc-flow-logs")
    assert writes["Resource"] == [arn, f"{arn}:*"]
    assert describe == {"Effect": "Allow", "Action": ["logs:DescribeLogGroups"],
                        "Resource": [arn.rsplit(":", 1)[0] + ":*"]}  # fmt: skip
    assert all("*" not in action for s in policy["Statement"] for action in s["Action"])
    trust = json.loads(plan.get("aws:iam/role:Role", "net-flow-logs-role").inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert trust["Statement"][0]["Condition"]["ArnLike"] == {
        "aws:SourceArn": "arn:aws:ec2:eu-west-1:111122223333:vpc-flow-log/*"
    }
    flow = plan.get("aws:ec2/flowLog:FlowLog", "net-flow-logs-vpc")
    assert plan.get("aws:iam/rolePolicy:RolePolicy", "net-flow-logs-delivery").urn in flow.depends_on


def test_nothing_is_protected_unless_asked(plan):
    assert [r.name for r in plan.resources if r.protect or r.retain_on_delete] == []


def test_protect_covers_keys_logs_and_nat_addresses():
    plan = build(args(protect=True))
    protected = sorted((r.type, r.name) for r in plan.resources if r.protect and r.retain_on_delete)
    assert protected == [
        ("aws:cloudwatch/logGroup:LogGroup", "net-flow-logs-log-group"),
        ("aws:ec2/eip:Eip", "net-nat-a"),
        ("aws:ec2/eip:Eip", "net-nat-b"),
        ("aws:ec2/eip:Eip", "net-nat-c"),
        ("aws:kms/key:Key", "net-flow-logs-log-kms-key"),
    ]
    group = plan.get("aws:cloudwatch/logGroup:LogGroup", "net-flow-logs-log-group")
    assert group.inputs["deletionProtectionEnabled"] is True


def test_every_child_is_parented_inside_the_component(plan):
    (root,) = [r for r in plan.resources if r.parent is None]
    assert root.type == "modelfleet:network:Network"
    urns = {r.urn for r in plan.resources}
    assert all(r.parent in urns for r in plan.resources if r is not root)


@pytest.mark.parametrize(
    "bad",
    [{"private_subnet_cidrs": ["10.0.0.0/19"]}, {"nat_gateway_count": 2}],
    ids=["subnets per az", "nat count"],
)
def test_inconsistent_args_are_refused(bad):
    with pytest.raises(ValueError, match="NetworkArgs needs|nat_gateway_count"):
        build(args(**bad))
