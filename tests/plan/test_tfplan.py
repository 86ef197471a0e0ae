"""The Terraform plan document, from hand-made resources (no program, no mocks)."""

from __future__ import annotations

import pytest

from infra.plan.model import PlannedResource
from infra.plan.tfplan import AWS_PROVIDER, address_name, terraform_plan
from infra.stackfiles.read import SECRET

KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/k-1"


def resource(type_token: str, name: str, inputs: dict, *, outputs=None, id=None, depends_on=()):
    urn = f"urn:pulumi:test::modelfleet::{type_token}::{name}"
    return PlannedResource(
        urn=urn, type=type_token, name=name, parent=None, custom=True, inputs=inputs,
        outputs={**inputs, **(outputs or {})}, id=id or f"{name}-id", depends_on=list(depends_on),
    )  # fmt: skip


BUCKET = resource("aws:s3/bucket:Bucket", "capture", {"bucketPrefix": "capture-"}, id="capture-1a2b")
VERSIONING = resource(
    "aws:s3/bucketVersioning:BucketVersioning",
    "capture-versioning",
    {"bucket": "capture-1a2b", "versioningConfiguration": {"status": "Enabled"}},
    depends_on=[BUCKET.urn],
)


def planned(document: dict, address: str) -> dict:
    return next(r for r in document["planned_values"]["root_module"]["resources"] if r["address"] == address)


def configured(document: dict, address: str) -> dict:
    return next(r for r in document["configuration"]["root_module"]["resources"] if r["address"] == address)


def test_every_resource_is_planned_created_and_configured():
    document = terraform_plan([BUCKET, VERSIONING], "eu-west-1")
    assert document["format_version"] == "1.0"
    bucket = planned(document, "aws_s3_bucket.capture")
    assert bucket | {"values": None} == {
        "address": "aws_s3_bucket.capture", "mode": "managed", "type": "aws_s3_bucket", "name": "capture",
        "provider_name": AWS_PROVIDER, "schema_version": 0, "values": None,
    }  # fmt: skip
    assert bucket["values"] == {"bucket_prefix": "capture-"}
    changes = {c["address"]: c["change"] for c in document["resource_changes"]}
    assert set(changes) == {"aws_s3_bucket.capture", "aws_s3_bucket_versioning.capture-versioning"}
    assert changes["aws_s3_bucket.capture"] == {
        "actions": ["create"], "before": None, "after": {"bucket_prefix": "capture-"}, "after_unknown": {},
    }  # fmt: skip
    assert document["configuration"]["provider_config"]["aws"]["expressions"]["region"] == {
        "constant_value": "eu-west-1"
    }


def test_a_value_a_dependency_produces_is_a_reference_and_unknown_until_created():
    document = terraform_plan([BUCKET, VERSIONING], "eu-west-1")
    address = "aws_s3_bucket_versioning.capture-versioning"
    assert planned(document, address)["values"] == {"versioning_configuration": [{"status": "Enabled"}]}
    change = next(c for c in document["resource_changes"] if c["address"] == address)["change"]
    assert change["after_unknown"] == {"bucket": True}
    assert configured(document, address)["expressions"] == {
        "bucket": {"references": ["aws_s3_bucket.capture.id", "aws_s3_bucket.capture"]}
    }


def test_the_same_value_without_a_dependency_stays_a_value():
    unrelated = resource(
        "aws:s3/bucketVersioning:BucketVersioning", "other", {"bucket": "capture-1a2b"}
    )  # no depends_on: equal values are a coincidence, not a reference
    document = terraform_plan([BUCKET, unrelated], "eu-west-1")
    assert planned(document, "aws_s3_bucket_versioning.other")["values"] == {"bucket": "capture-1a2b"}
    assert configured(document, "aws_s3_bucket_versioning.other")["expressions"] == {}


def test_a_setting_a_dependency_was_given_is_not_a_reference_to_it():
    target = resource("aws:lb/targetGroup:TargetGroup", "tg", {"protocol": "HTTP", "port": 8080}, id="arn:tg")
    listener = resource(
        "aws:lb/listener:Listener",
        "http",
        {"protocol": "HTTP", "defaultActions": [{"type": "forward", "targetGroupArn": "arn:tg"}]},
        depends_on=[target.urn],
    )
    document = terraform_plan([target, listener], "eu-west-1")
    values = planned(document, "aws_lb_listener.http")["values"]
    assert values == {"protocol": "HTTP", "default_action": [{"type": "forward"}]}
    assert configured(document, "aws_lb_listener.http")["expressions"] == {
        "default_action": [
            {"target_group_arn": {"references": ["aws_lb_target_group.tg.id", "aws_lb_target_group.tg"]}}
        ]
    }


def test_masked_secrets_are_never_references():
    secret = resource("aws:secretsmanager/secret:Secret", "token", {}, id="token", outputs={"arn": SECRET})
    version = resource(
        "aws:secretsmanager/secretVersion:SecretVersion",
        "token-v1",
        {"secretId": "token", "secretString": SECRET},
        depends_on=[secret.urn],
    )
    document = terraform_plan([secret, version], "eu-west-1")
    assert planned(document, "aws_secretsmanager_secret_version.token-v1")["values"] == {
        "secret_string": SECRET
    }


def test_a_value_a_dependency_computes_beats_the_same_value_another_passes_on():
    key = resource("aws:kms/key:Key", "key", {"enableKeyRotation": True}, outputs={"arn": KEY_ARN})
    logs = resource(
        "aws:cloudwatch/logGroup:LogGroup", "logs", {"kmsKeyId": KEY_ARN}, depends_on=[key.urn]
    )  # logs echoes the key's ARN as its own kmsKeyId
    topic = resource(
        "aws:sns/topic:Topic", "alarms", {"kmsMasterKeyId": KEY_ARN}, depends_on=[logs.urn, key.urn]
    )
    document = terraform_plan([key, logs, topic], "eu-west-1")
    assert configured(document, "aws_sns_topic.alarms")["expressions"]["kms_master_key_id"] == {
        "references": ["aws_kms_key.key.arn", "aws_kms_key.key"]
    }


def test_a_list_of_references_names_each_and_their_resources_once():
    subnets = [resource("aws:ec2/subnet:Subnet", f"private-{z}", {"cidrBlock": "10.0.0.0/24"}) for z in "ab"]
    load_balancer = resource(
        "aws:lb/loadBalancer:LoadBalancer",
        "alb",
        {"internal": True, "subnets": [s.id for s in subnets]},
        depends_on=[s.urn for s in subnets],
    )
    document = terraform_plan([*subnets, load_balancer], "eu-west-1")
    assert configured(document, "aws_lb.alb")["expressions"]["subnets"]["references"] == [
        "aws_subnet.private-a.id", "aws_subnet.private-b.id", "aws_subnet.private-a", "aws_subnet.private-b",
    ]  # fmt: skip
    assert planned(document, "aws_lb.alb")["values"] == {"internal": True}


def test_two_resources_cannot_share_an_address():
    twin = resource("aws:s3/bucket:Bucket", "capture", {"bucketPrefix": "x-"})
    twin = PlannedResource(**{**twin.__dict__, "urn": twin.urn + "-elsewhere"})
    with pytest.raises(ValueError, match="aws_s3_bucket.capture"):
        terraform_plan([BUCKET, twin], "eu-west-1")


@pytest.mark.parametrize(
    ("name", "expected"), [("platform-vpc", "platform-vpc"), ("a/b.c", "a_b_c"), ("1st", "_1st")]
)
def test_address_names_are_terraform_identifiers(name, expected):
    assert address_name(name) == expected
