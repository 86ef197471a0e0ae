"""What each shipped stack exports for scanners, and that every resource type is decided."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase

import pytest
from ruamel.yaml import YAML

from infra.plan import export
from infra.plan.native_twins import twin
from infra.plan.tfnames import tf_type
from tests.conftest import SHIPPED_STACKS


@pytest.mark.parametrize(
    ("type_token", "expected"),
    [
        ("aws:ec2/vpc:Vpc", export.TERRAFORM_PLAN),
        ("kubernetes:apps/v1:Deployment", export.KUBERNETES),
        ("kubernetes:networking.k8s.io/v1:NetworkPolicy", export.KUBERNETES),
        ("kubernetes:helm.sh/v3:Release", None),
        ("modelfleet:eks:EksCluster", None),
        ("pulumi:providers:aws", None),
    ],
)
def test_decisions(type_token, expected):
    assert export.decision(type_token) == expected


@pytest.mark.parametrize("type_token", ["random:index/randomId:RandomId", "aws-native:s3:Bucket"])
def test_a_type_nobody_decided_about_is_refused(type_token):
    with pytest.raises(KeyError):
        export.decision(type_token)


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_every_resource_type_of_a_shipped_stack_is_exported_or_not_scanned_for_a_reason(shipped_plans, stack):
    split = export.split(shipped_plans[stack])
    assert split.undecided_types == []
    assert all(r.type.startswith("aws:") for r in split.terraform)
    assert {r.type for r in split.kubernetes} >= {
        "kubernetes:apps/v1:Deployment",
        "kubernetes:core/v1:Service",
    }


def test_every_not_scanned_entry_is_still_needed_by_a_shipped_stack(shipped_plans):
    types = {r.type for plan in shipped_plans.values() for r in plan.resources}
    assert [p for p in export.NOT_SCANNED if not any(fnmatchcase(t, p) for t in types)] == []


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_files_hold_every_exported_resource(shipped_plans, stack, tmp_path):
    plan = shipped_plans[stack]
    written = export.write(plan, tmp_path)
    assert written.paths == export.files(tmp_path, stack)

    document = json.loads(written.paths[export.TERRAFORM_PLAN].read_text())
    addresses = [r["address"] for r in document["planned_values"]["root_module"]["resources"]]
    # aws-native resources with a Terraform twin are exported as that twin (infra/plan/native_twins.py)
    aws = [twin(r) for r in plan.custom_resources if twin(r).type.startswith("aws:")]
    assert len(addresses) == len(set(addresses)) == len(aws)
    assert {a.split(".")[0] for a in addresses} == {tf_type(r.type) for r in aws}

    manifests = list(YAML(typ="safe", pure=True).load_all(written.paths[export.KUBERNETES].read_text()))
    assert [m["kind"] for m in manifests] == [r.inputs["kind"] for r in written.kubernetes]
    assert "kubernetes:helm.sh/v3:Release" not in {r.type for r in written.kubernetes}
    assert written.summary().startswith(f"{stack}: {len(aws)} resources -> ")


def test_links_between_resources_survive_the_export(shipped_plans, tmp_path):
    """Scanners link a VPC to its flow log and a bucket to its encryption through references."""
    document = json.loads(
        export.write(shipped_plans["prod"], tmp_path).paths[export.TERRAFORM_PLAN].read_text()
    )
    expressions = {
        r["address"]: r["expressions"] for r in document["configuration"]["root_module"]["resources"]
    }
    flow_log = next(e for a, e in expressions.items() if a.startswith("aws_flow_log."))
    assert flow_log["vpc_id"]["references"][-1].startswith("aws_vpc.")
    encryption = next(
        e
        for a, e in expressions.items()
        if a.startswith("aws_s3_bucket_server_side_encryption_configuration.")
    )
    assert encryption["bucket"]["references"][-1].startswith("aws_s3_bucket.")


@pytest.mark.parametrize(
    ("file_name", "stack"),
    [("prod.tfplan.json", "prod"), ("dev.k8s.yaml", "dev"), ("checkov.report", None), ("prod.json", None)],
)
def test_an_exported_file_names_its_stack(file_name, stack):
    assert export.stack_of(file_name) == stack
