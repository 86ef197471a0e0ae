"""Terraform names and shapes for pulumi-aws tokens and properties (no plan, no mocks)."""

from __future__ import annotations

import json

import pytest
from pulumi import _types as pulumi_types

from infra.plan.tfnames import (
    PLURALISED,
    TYPE_EXCEPTIONS,
    UnknownProperty,
    property_types,
    snake,
    tf_attribute,
    tf_type,
    tf_values,
)

CLUSTER = "aws:eks/cluster:Cluster"


@pytest.mark.parametrize(
    ("name", "expected"),
    [("retentionInDays", "retention_in_days"), ("cidrIpv4", "cidr_ipv4"), ("ec2SshKey", "ec2_ssh_key"),
     ("destinationS3Uri", "destination_s3_uri"), ("name", "name")],
)  # fmt: skip
def test_snake(name, expected):
    assert snake(name) == expected


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("aws:cloudwatch/logGroup:LogGroup", "aws_cloudwatch_log_group"),
        ("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "aws_vpc_security_group_ingress_rule"),
        ("aws:ec2/vpc:Vpc", "aws_vpc"),
        ("aws:ec2/flowLog:FlowLog", "aws_flow_log"),
        ("aws:lb/loadBalancer:LoadBalancer", "aws_lb"),
        ("aws:lb/targetGroup:TargetGroup", "aws_lb_target_group"),
        ("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
         "aws_s3_bucket_server_side_encryption_configuration"),
    ],
)  # fmt: skip
def test_terraform_type_of_a_token(token, expected):
    assert tf_type(token) == expected


def test_only_pulumi_aws_tokens_have_a_terraform_type():
    with pytest.raises(ValueError, match="not a pulumi-aws resource"):
        tf_type("aws-native:sagemaker:Endpoint")


def test_a_one_item_block_becomes_a_list_and_a_map_stays_a_map():
    values = tf_values(
        CLUSTER,
        {
            "vpcConfig": {"endpointPublicAccess": False, "subnetIds": ["subnet-1"]},
            "tags": {"costCenter": "1"},
        },
    )
    assert values == {
        "vpc_config": [{"endpoint_public_access": False, "subnet_ids": ["subnet-1"]}],
        "tags": {"costCenter": "1"},  # tag keys are data, never renamed
    }


def test_nested_blocks_and_pluralised_lists_take_terraform_names():
    inputs = {
        "protocol": "HTTP",
        "defaultActions": [{"type": "forward", "forward": {"targetGroups": [{"arn": "tg-1", "weight": 90}]}}],
    }
    assert tf_values("aws:lb/listener:Listener", inputs) == {
        "protocol": "HTTP",
        "default_action": [
            {"type": "forward", "forward": [{"target_group": [{"arn": "tg-1", "weight": 90}]}]}
        ],
    }
    assert tf_attribute("aws:lb/listener:Listener", "defaultActions") == "default_action"
    assert tf_attribute("aws:lb/listener:Listener", "loadBalancerArn") == "load_balancer_arn"


def test_a_document_given_as_an_object_is_a_json_string_in_terraform():
    document = {"Version": "2012-10-17", "Statement": []}
    values = tf_values("aws:iam/rolePolicy:RolePolicy", {"role": "r", "policy": document})
    assert json.loads(values["policy"]) == document


def test_a_property_the_sdk_does_not_declare_is_an_error():
    with pytest.raises(UnknownProperty, match=r"vpcConfig\.notAField"):
        tf_values(CLUSTER, {"vpcConfig": {"notAField": 1}})


def _type_at(token: str, path: str):
    """The SDK type of a dotted property path, stepping into list elements and object types."""
    first, *rest = path.split(".")
    typ = property_types(token)[first]
    for part in rest:
        typ = pulumi_types.unwrap_type(typ)
        element = typ.__args__[0] if getattr(typ, "__args__", None) else typ
        typ = pulumi_types.output_type_types(pulumi_types.unwrap_type(element))[part]
    return pulumi_types.unwrap_type(typ)


@pytest.mark.parametrize(
    ("token", "path", "terraform"),
    [(token, path, name) for token, renames in PLURALISED.items() for path, name in renames.items()],
)
def test_every_pluralised_name_is_a_list_the_sdk_declares_and_the_plural_of_its_terraform_name(
    token, path, terraform
):
    assert getattr(_type_at(token, path), "_name", None) == "Sequence"
    plural = snake(path.split(".")[-1])
    assert plural in {f"{terraform}s", f"{terraform[:-1]}ies"}


@pytest.mark.parametrize("token", sorted(TYPE_EXCEPTIONS))
def test_every_type_exception_names_a_resource_the_sdk_has(token):
    assert property_types(token)
