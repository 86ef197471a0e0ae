"""VpcEndpoints under Pulumi's mocks: an S3 gateway and private-DNS interface endpoints behind one group."""

from __future__ import annotations

import json

import pytest

from infra.components.network.vpc_endpoints import VpcEndpoints, VpcEndpointsArgs, s3_gateway_policy
from tests.components.support import ACCOUNT, TAGS, Recorded, by_name, known, outside, record_component

COMPONENT = "modelfleet:network:VpcEndpoints"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
SERVICES = ["sagemaker.runtime", "ecr.api", "ecr.dkr", "logs"]
SUBNETS = ["subnet-a", "subnet-b", "subnet-c"]
ROUTE_TABLES = ["rtb-a", "rtb-b", "rtb-c"]


def build(region: str = "eu-west-1", services=SERVICES) -> Recorded:
    def program():
        VpcEndpoints(
            "endpoints",
            VpcEndpointsArgs(
                vpc_id=known("vpc-1"),
                vpc_cidr="10.20.0.0/16",
                region=region,
                account_id=known(ACCOUNT),
                subnet_ids=[known(s) for s in SUBNETS],
                route_table_ids=ROUTE_TABLES,
                services=services,
                name_prefix="modelfleet-test",
                tags=TAGS,
            ),
        )

    return record_component(program, region=region)


@pytest.fixture(scope="module")
def recorded() -> Recorded:
    return build()


def test_one_gateway_one_interface_per_service_one_group_all_children(recorded):
    plan, root = recorded.plan, recorded.component(COMPONENT)
    children = plan.children(root.urn)
    assert sorted(r.name for r in children) == sorted(
        ["endpoints-sg", "endpoints-https-from-vpc", "endpoints-s3"]
        + [f"endpoints-{s.replace('.', '-')}" for s in SERVICES]
    )
    assert outside(plan, root) == []
    assert len(plan.of_type(ENDPOINT)) == 1 + len(SERVICES)


def test_interface_endpoints_use_private_dns_in_every_private_subnet(recorded):
    group = recorded.plan.get(GROUP, "endpoints-sg")
    interfaces = {e.inputs["serviceName"]: e.inputs for e in recorded.plan.of_type(ENDPOINT)
                  if e.inputs["vpcEndpointType"] == "Interface"}  # fmt: skip
    assert set(interfaces) == {f"com.amazonaws.eu-west-1.{s}" for s in SERVICES}
    for inputs in interfaces.values():
        assert inputs["vpcId"] == "vpc-1"
        assert inputs["privateDnsEnabled"] is True
        assert inputs["subnetIds"] == SUBNETS
        assert inputs["securityGroupIds"] == [group.id]
        assert "routeTableIds" not in inputs


def test_s3_gateway_serves_the_route_tables_with_the_account_policy(recorded):
    s3 = recorded.plan.get(ENDPOINT, "endpoints-s3").inputs
    assert s3["serviceName"] == "com.amazonaws.eu-west-1.s3"
    assert s3["vpcEndpointType"] == "Gateway"
    assert s3["routeTableIds"] == ROUTE_TABLES
    assert "subnetIds" not in s3 and "privateDnsEnabled" not in s3  # EC2 refuses both on a gateway
    assert json.loads(s3["policy"]) == s3_gateway_policy(ACCOUNT, "eu-west-1")


def test_group_admits_https_from_the_vpc_and_nothing_else(recorded):
    group = recorded.plan.get(GROUP, "endpoints-sg")
    assert group.inputs["vpcId"] == "vpc-1"
    assert group.inputs["revokeRulesOnDelete"] is True
    assert group.inputs["tags"]["Name"] == "modelfleet-test-endpoints"
    assert "ingress" not in group.inputs and "egress" not in group.inputs  # rules are their own resources
    (rule,) = recorded.plan.of_type(INGRESS)
    assert rule.inputs["securityGroupId"] == group.id
    assert (rule.inputs["ipProtocol"], rule.inputs["fromPort"], rule.inputs["toPort"]) == ("tcp", 443, 443)
    assert rule.inputs["cidrIpv4"] == "10.20.0.0/16"
    assert recorded.plan.of_type(EGRESS) == []


def test_endpoints_carry_name_tags(recorded):
    names = {r.name: r.tags["Name"] for r in recorded.plan.of_type(ENDPOINT)}
    assert names["endpoints-s3"] == "modelfleet-test-s3"
    assert names["endpoints-ecr-dkr"] == "modelfleet-test-ecr.dkr"
    assert all(r.tags["owner"] == "ml-platform" for r in recorded.plan.of_type(ENDPOINT))


def test_service_names_follow_the_region():
    plan = build(region="us-east-1", services=["sts"]).plan
    assert {e.inputs["serviceName"] for e in plan.of_type(ENDPOINT)} == {
        "com.amazonaws.us-east-1.s3",
        "com.amazonaws.us-east-1.sts",
    }


def test_no_interface_services_leaves_the_gateway_and_the_group():
    plan = build(services=[]).plan
    assert list(by_name(plan, ENDPOINT)) == ["endpoints-s3"]
    assert len(plan.of_type(GROUP)) == 1


def test_registers_the_group_and_every_endpoint_id(recorded):
    endpoints = by_name(recorded.plan, ENDPOINT)
    assert recorded.outputs_of(recorded.component(COMPONENT)) == {
        "security_group_id": recorded.plan.get(GROUP, "endpoints-sg").id,
        "endpoint_ids": {
            "s3": endpoints["endpoints-s3"].id,
            **{s: endpoints[f"endpoints-{s.replace('.', '-')}"].id for s in SERVICES},
        },
    }
