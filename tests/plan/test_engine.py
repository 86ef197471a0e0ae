"""The offline engine on the shipped stacks, and on stacks made to fail."""

from __future__ import annotations

import importlib
import inspect
import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from infra.plan import Plan, PlanError, plan_stack, record
from infra.plan.cloud import UnmockedInvoke, zone_ids
from infra.settings.platform import SettingsError
from infra.stackfiles.read import SECRET, StackFileError, read_project, read_stack_config
from tests.conftest import ROOT

NAT = "aws:ec2/natGateway:NatGateway"


def write_stack(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "Pulumi.custom.yaml"
    path.write_text(body)
    return path


@pytest.mark.parametrize(("stack", "azs", "nats"), [("dev", 2, 1), ("staging", 3, 3), ("prod", 3, 3)])
def test_shipped_stacks_plan_with_their_shape(shipped_plans, stack, azs, nats):
    plan = shipped_plans[stack]
    assert plan.stack == stack
    assert len(plan.of_type(NAT)) == nats
    assert len(plan.of_type("aws:ec2/subnet:Subnet")) == 2 * azs
    assert plan.outputs["nat_gateway_count"] == nats
    assert plan.outputs["environment"] == stack


def test_prod_protects_stateful_resources_and_dev_does_not(shipped_plans):
    def protected(plan: Plan) -> set[str]:
        return {r.type for r in plan.resources if r.protect and r.retain_on_delete}

    assert protected(shipped_plans["prod"]) == {
        "aws:kms/key:Key",
        "aws:cloudwatch/logGroup:LogGroup",
        "aws:ec2/eip:Eip",
        "aws:s3/bucket:Bucket",
    }
    assert protected(shipped_plans["dev"]) == set()


def _taggable(type_token: str) -> bool:
    """Whether the provider's resource class for ``type_token`` takes ``tags``."""
    if type_token.startswith(("pulumi:providers:", "kubernetes:")):
        return False  # providers have no tags; Kubernetes objects carry labels
    package, module_path, class_name = type_token.split(":")
    module = importlib.import_module(f"pulumi_{package.replace('-', '_')}.{module_path.split('/')[0]}")
    init = getattr(module, class_name)._internal_init
    return "tags" in inspect.signature(init).parameters


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_taggable_resource_carries_the_stack_tags(shipped_plans, stack):
    plan = shipped_plans[stack]
    wanted = {"environment": stack, "project": "modelfleet", "owner": "ml-platform",
              "cost-center": f"CC-4410-{stack}", "managed-by": "pulumi"}  # fmt: skip
    taggable = [r for r in plan.custom_resources if _taggable(r.type)]
    assert len(taggable) > 20
    untagged = [r.name for r in taggable if not wanted.items() <= r.tags.items()]
    assert untagged == []


def test_every_resource_hangs_off_the_platform_component(shipped_plans):
    plan = shipped_plans["staging"]
    (root,) = plan.children(None)
    assert root.type == "modelfleet:platform:Platform"
    assert len(plan.descendants(root.urn)) == len(plan.resources) - 1


def test_lookups_are_recorded(shipped_plans):
    tokens = {i.token for i in shipped_plans["dev"].invokes}
    assert "aws:index/getAvailabilityZones:getAvailabilityZones" in tokens
    assert "aws:index/getCallerIdentity:getCallerIdentity" in tokens


def test_plan_json_round_trips_and_has_the_documented_shape(shipped_plans, tmp_path):
    plan = shipped_plans["prod"]
    plan.save(tmp_path / "plan.json")
    data = json.loads((tmp_path / "plan.json").read_text())
    assert data["schema_version"] == 1
    for item in data["resources"]:
        assert {"type", "name", "parent", "inputs", "urn"} <= item.keys()
    assert Plan.load(tmp_path / "plan.json") == plan


def test_planning_twice_gives_the_same_plan_even_across_processes(tmp_path):
    first = plan_stack("dev", root=ROOT).to_json()
    assert plan_stack("dev", root=ROOT).to_json() == first
    # Diffs compare plans made by different processes: hash randomisation must not leak in.
    out = tmp_path / "dev.json"
    subprocess.run([sys.executable, "-m", "infra.cli", "plan", "--stack", "dev", "--summary", "--out", str(out)],
                   cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": "12345"}, check=True, capture_output=True)  # fmt: skip
    assert out.read_text() == first


def test_a_bad_stack_file_fails_before_anything_is_declared(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr("infra.plan.engine.record", lambda *a, **k: calls.append(a))
    path = write_stack(tmp_path, "config:\n  aws:region: eu-west-1\n  modelfleet:tier: prod\n")
    with pytest.raises(SettingsError) as caught:
        plan_stack("custom", root=ROOT, stack_file=path)
    assert [p.path for p in caught.value.problems] == [
        "modelfleet:cost_center",
        "modelfleet:network.cidr",
        "modelfleet:owner",
    ]
    assert calls == []


def test_too_few_zones_in_the_region_stops_the_program_with_a_message(tmp_path):
    path = write_stack(
        tmp_path,
        "config:\n  aws:region: us-west-1\n  modelfleet:tier: prod\n  modelfleet:owner: o\n"
        "  modelfleet:cost_center: c\n  modelfleet:network:\n    cidr: 10.0.0.0/16\n",
    )
    with pytest.raises(PlanError, match=r"az_count is 3 but us-west-1 has 2 available zones"):
        plan_stack("custom", root=ROOT, stack_file=path)


def test_secure_values_are_masked_and_their_keys_marked_secret(tmp_path):
    path = write_stack(
        tmp_path,
        "config:\n  modelfleet:token:\n    secure: v1:abc\n"
        "  grafana:\n    admin_password:\n      secure: v1:def\n    user: admin\n  aws:region: eu-west-1\n",
    )
    config = read_stack_config(read_project(ROOT), path)
    assert config.values["modelfleet:token"] == SECRET
    assert json.loads(config.values["modelfleet:grafana"]) == {
        "admin_password": SECRET,
        "user": "admin",
    }
    assert config.values["aws:region"] == "eu-west-1"
    assert sorted(config.secret_keys) == ["modelfleet:grafana", "modelfleet:token"]


def test_missing_stack_file_is_a_clear_error():
    with pytest.raises(StackFileError, match=r"Pulumi.nope.yaml: no such file"):
        plan_stack("nope", root=ROOT)


def test_an_unanswered_lookup_says_where_to_add_it():
    import pulumi_aws as aws

    with pytest.raises(UnmockedInvoke, match="getAmi"):
        record(lambda: aws.ec2.get_ami(most_recent=True, owners=["amazon"]))


def test_the_program_reads_config_the_way_the_pulumi_cli_passes_it(monkeypatch):
    """Under `pulumi up` config arrives as PULUMI_CONFIG, with objects as JSON text."""
    config = {
        "aws:region": "eu-west-1",
        "modelfleet:tier": "dev",
        "modelfleet:owner": "o",
        "modelfleet:cost_center": "c",
        "modelfleet:network": json.dumps({"cidr": "10.50.0.0/16"}),
    }
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(config))
    plan = record(lambda: runpy.run_path(str(ROOT / "infra/__main__.py"), run_name="__main__"), stack="env")
    assert plan.get("aws:ec2/vpc:Vpc", "platform-network-vpc").inputs["cidrBlock"] == "10.50.0.0/16"


def test_zone_ids_follow_the_aws_pattern():
    assert zone_ids("eu-west-1") == ["euw1-az1", "euw1-az2", "euw1-az3"]
    assert zone_ids("ap-southeast-2")[0] == "apse2-az1"


def test_two_resources_with_one_name_fail_as_pulumi_up_would():
    import pulumi_aws as aws

    def program():
        aws.sns.Topic("same")
        aws.sns.Topic("same")

    with pytest.raises(Exception, match="duplicate resource aws:sns/topic:Topic named 'same'"):
        record(program)


def test_a_plan_with_fields_from_a_newer_release_still_loads(shipped_plans):
    data = shipped_plans["dev"].to_dict()
    data["resources"][0]["added_later"] = True
    assert Plan.from_dict(data).resources[0] == shipped_plans["dev"].resources[0]


def test_pinned_zones_are_used_without_a_lookup(tmp_path):
    path = write_stack(
        tmp_path,
        "config:\n  aws:region: eu-west-1\n  modelfleet:tier: dev\n  modelfleet:owner: o\n"
        "  modelfleet:cost_center: c\n  modelfleet:network:\n    cidr: 10.0.0.0/16\n"
        "    availability_zones: [eu-west-1c, eu-west-1a]\n",
    )
    plan = plan_stack("custom", root=ROOT, stack_file=path)
    zones = sorted(s.inputs["availabilityZone"] for s in plan.of_type("aws:ec2/subnet:Subnet"))
    assert zones == ["eu-west-1a", "eu-west-1a", "eu-west-1c", "eu-west-1c"]
    assert "aws:index/getAvailabilityZones:getAvailabilityZones" not in {i.token for i in plan.invokes}
