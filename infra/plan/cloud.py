"""Cloud-like answers for the offline engine: ids, ARNs, names, AZs, identity.

Every value is derived from the stack, type and logical name, so planning the
same program twice gives the same plan byte for byte, which is what a diff of
two revisions relies on. Addresses come from documentation ranges (RFC 5737).
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
from pathlib import Path
from typing import Any

import pulumi

from infra.plan.model import PlannedInvoke
from infra.specs import iam, registry

ACCOUNT_ID = "123456789012"
# What the model registry answers offline: package ARN -> its approval status. A real
# preview asks the registry; the offline plan cannot, so each package a shipped stack
# deploys is listed here, and a package it does not list stops the plan with that reason.
MODEL_PACKAGES_FIXTURE = Path(__file__).with_name("fixtures") / "model_packages.json"

# Zone letters per region for an account with default opt-ins; others get a-c.
ZONE_LETTERS = {
    "us-east-1": "abcdef",
    "us-west-1": "bc",
    "us-west-2": "abcd",
    "ap-northeast-1": "acd",
    "ap-northeast-2": "abcd",
    "ca-central-1": "abd",
    "sa-east-1": "abc",
}
_COMPASS = {"north": "n", "south": "s", "east": "e", "west": "w", "central": "c",
            "northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw"}  # fmt: skip

# The id prefix AWS gives each resource type.
ID_PREFIX = {
    "aws:ec2/vpc:Vpc": "vpc",
    "aws:ec2/subnet:Subnet": "subnet",
    "aws:ec2/internetGateway:InternetGateway": "igw",
    "aws:ec2/natGateway:NatGateway": "nat",
    "aws:ec2/eip:Eip": "eipalloc",
    "aws:ec2/routeTable:RouteTable": "rtb",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "rtbassoc",
    "aws:ec2/route:Route": "r-rtb",
    "aws:ec2/securityGroup:SecurityGroup": "sg",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "sg",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "sgr",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce",
    "aws:ec2/flowLog:FlowLog": "fl",
    "aws:ec2/launchTemplate:LaunchTemplate": "lt",
}
_ELB = "arn:{partition}:elasticloadbalancing:{region}:{account}"
# ARN formats where the generic "<service>:<region>:<account>:<kind>/<id>" is wrong.
ARN_FORMAT = {
    "aws:iam/role:Role": "arn:{partition}:iam::{account}:role/{name}",
    "aws:iam/policy:Policy": "arn:{partition}:iam::{account}:policy/{name}",
    "aws:cloudwatch/logGroup:LogGroup": "arn:{partition}:logs:{region}:{account}:log-group:{name}",
    "aws:kms/key:Key": "arn:{partition}:kms:{region}:{account}:key/{id}",
    "aws:kms/alias:Alias": "arn:{partition}:kms:{region}:{account}:{name}",
    "aws:s3/bucket:Bucket": "arn:{partition}:s3:::{name}",
    "aws:s3/bucketV2:BucketV2": "arn:{partition}:s3:::{name}",
    "aws:sns/topic:Topic": "arn:{partition}:sns:{region}:{account}:{name}",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "arn:{partition}:cloudwatch:{region}:{account}:alarm:{name}",
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": (
        "arn:{partition}:sagemaker:{region}:{account}:endpoint-config/{name}"
    ),
    "aws:sagemaker/model:Model": "arn:{partition}:sagemaker:{region}:{account}:model/{name}",
    "aws:lb/loadBalancer:LoadBalancer": _ELB + ":loadbalancer/{id}",
    "aws:lb/targetGroup:TargetGroup": _ELB + ":{id}",
    "aws:eks/cluster:Cluster": "arn:{partition}:eks:{region}:{account}:cluster/{name}",
}


# Types whose physical name Pulumi generates when the program gives none.
AUTO_NAMED = frozenset(
    {
        "aws:iam/role:Role",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:iam/policy:Policy",
        "aws:ec2/securityGroup:SecurityGroup",
        "aws:cloudwatch/logGroup:LogGroup",
        "aws:s3/bucket:Bucket",
        "aws:s3/bucketV2:BucketV2",
        "aws:sns/topic:Topic",
        "aws:sagemaker/model:Model",
    }
)


def zone_names(region: str) -> list[str]:
    return [f"{region}{letter}" for letter in ZONE_LETTERS.get(region, "abc")]


def zone_ids(region: str) -> list[str]:
    area, direction, number = [*region.split("-"), "", ""][:3]
    short = f"{area}{_COMPASS.get(direction, direction[:1])}{number}"
    return [f"{short}-az{i + 1}" for i in range(len(zone_names(region)))]


class UnmockedInvoke(RuntimeError):
    """The program called a data source the offline engine cannot answer yet."""


class CloudMocks(pulumi.runtime.Mocks):
    """Answers resource registrations and invokes like AWS would, and records invokes."""

    def __init__(self, stack: str, region: str):
        self.stack, self.region = stack, region
        self.partition = iam.partition_for(region)
        self.invokes: list[PlannedInvoke] = []
        self._lock = threading.Lock()  # the SDK calls mocks from a thread pool

    def _digest(self, *parts: str) -> str:
        return hashlib.sha256("/".join((self.stack, *parts)).encode()).hexdigest()

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        state = dict(args.inputs)
        if not args.custom or args.typ.startswith("pulumi:providers:"):
            return (f"{args.name}-provider" if args.custom else ""), state
        digest = self._digest(args.typ, args.name)
        # AWS and Terraform complete a prefix with 26 characters; Pulumi auto-names with 7.
        if state.get("namePrefix"):
            state["name"] = f"{state['namePrefix']}{digest[:26]}"
        if state.get("bucketPrefix"):
            state["bucket"] = f"{state['bucketPrefix']}{digest[:26]}"
        name = state.get("name") or state.get("bucket") or f"{args.name}-{digest[:7]}"
        if "name" in state or args.typ in AUTO_NAMED:
            state["name"] = name
        if args.typ == "aws:kms/key:Key":
            resource_id = f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
            state["keyId"] = resource_id
        elif args.typ in (
            "aws:iam/role:Role",
            "aws:cloudwatch/logGroup:LogGroup",
            "aws:kms/alias:Alias",
        ):
            resource_id = name
        elif args.typ in ID_PREFIX:
            resource_id = f"{ID_PREFIX[args.typ]}-{digest[:17]}"
        else:
            resource_id = f"{args.name}-{digest[:8]}"
        state["arn"] = self._arn(args.typ, resource_id, name)
        if args.typ == "aws:ec2/vpc:Vpc":
            state["defaultSecurityGroupId"] = f"sg-{digest[17:34]}"
            state["mainRouteTableId"] = f"rtb-{digest[17:34]}"
        if args.typ in ("aws:lb/loadBalancer:LoadBalancer", "aws:lb/targetGroup:TargetGroup"):
            kind = "app" if args.typ.endswith("LoadBalancer") else "targetgroup"
            state["arnSuffix"] = f"{kind}/{name}/{digest[:16]}"
            state["arn"] = self._arn(args.typ, state["arnSuffix"], name)
            state["dnsName"] = f"internal-{name}-{digest[:10]}.{self.region}.elb.amazonaws.com"
            return state["arn"], state
        if args.typ == "aws:ec2/launchTemplate:LaunchTemplate":
            state["latestVersion"] = state["defaultVersion"] = 1
        if args.typ == "aws:eks/cluster:Cluster":
            state["endpoint"] = f"https://{digest[:32].upper()}.gr7.{self.region}.eks.amazonaws.com"
            state["certificateAuthority"] = {"data": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCm9mZmxpbmUK"}
        if args.typ == "aws:ec2/vpcEndpoint:VpcEndpoint" and state.get("vpcEndpointType") == "Gateway":
            state["prefixListId"] = f"pl-{digest[17:25]}"
        if args.typ in ("aws:ec2/eip:Eip", "aws:ec2/natGateway:NatGateway"):
            state["allocationId"] = state.get("allocationId", resource_id)
            state["publicIp"] = f"203.0.113.{int(digest[:2], 16) % 254 + 1}"
        return resource_id, state

    def _arn(self, type_token: str, resource_id: str, name: str) -> str:
        template = ARN_FORMAT.get(type_token)
        if template is None:
            service = type_token.split(":")[1].split("/", 1)[0]
            kind = type_token.rsplit(":", 1)[-1].lower()
            template = f"arn:{{partition}}:{service}:{{region}}:{{account}}:{kind}/{{id}}"
        return template.format(
            partition=self.partition,
            region=self.region,
            account=ACCOUNT_ID,
            id=resource_id,
            name=name,
        )

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        with self._lock:
            self.invokes.append(PlannedInvoke(token=args.token, args=dict(args.args)))
        region = args.args.get("region") or self.region
        answers = {
            "aws:index/getAvailabilityZones:getAvailabilityZones": lambda: {
                "id": region,
                "names": zone_names(region),
                "zoneIds": zone_ids(region),
                "groupNames": [region] * len(zone_names(region)),
                "state": "available",
            },
            "aws:index/getCallerIdentity:getCallerIdentity": lambda: {
                "id": ACCOUNT_ID,
                "accountId": ACCOUNT_ID,
                "arn": f"arn:{self.partition}:sts::{ACCOUNT_ID}:assumed-role/plan/offline",
                "userId": "AROAMODELFLEETPLAN:offline",
            },
            "aws:index/getPartition:getPartition": lambda: {
                "id": self.partition,
                "partition": self.partition,
                "dnsSuffix": "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com",
                "reverseDnsPrefix": "cn.com.amazonaws" if self.partition == "aws-cn" else "com.amazonaws",
            },
            "aws:index/getRegion:getRegion": lambda: {
                "id": region,
                "name": region,
                "region": region,
                "endpoint": f"ec2.{region}.amazonaws.com",
                "description": region,
            },
        }
        if args.token == registry.INVOKE:
            return model_package(args.args.get("modelPackageArn", ""))
        if args.token not in answers:
            raise UnmockedInvoke(
                f"the offline plan cannot answer {args.token} yet; add it to CloudMocks.call "
                "in infra/plan/cloud.py"
            )
        return answers[args.token]()


@functools.cache
def registry_fixture() -> dict[str, str]:
    """Package ARN -> approval status, as the offline plan answers the registry."""
    entries = json.loads(MODEL_PACKAGES_FIXTURE.read_text(encoding="utf-8"))["packages"]
    return {entry["arn"]: entry["status"] for entry in entries}


def model_package(arn: str) -> dict[str, Any]:
    """``getModelPackage``'s answer from the fixture: its ARN and approval status."""
    status = registry_fixture().get(arn)
    if status is None:
        raise UnmockedInvoke(
            f"the offline plan does not know model package {arn}: add it with its approval status to "
            f"{MODEL_PACKAGES_FIXTURE.relative_to(MODEL_PACKAGES_FIXTURE.parents[3])}"
        )
    return {"modelPackageArn": arn, "modelApprovalStatus": status}
