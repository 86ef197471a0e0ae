"""The registry gate in the program: prod's plan reads each package's approval and stops on any other.

The offline plan answers the registry from infra/plan/fixtures/model_packages.json; a real
``pulumi preview`` asks the registry through the same invoke.
"""

from __future__ import annotations

import json

import pytest

from infra.plan import cloud, plan_stack
from infra.specs import registry
from tests.conftest import ROOT

PACKAGE = "arn:aws:sagemaker:eu-west-1:123456789012:model-package/support-summarizer/7"
RISK = "arn:aws:sagemaker:eu-west-1:123456789012:model-package/modelfleet-prod-risk"  # fraud-graph, on EKS


def test_prod_reads_the_package_status_and_exports_it(shipped_plans):
    plan = shipped_plans["prod"]
    asked = [i.args for i in plan.invokes if i.token == registry.INVOKE]
    assert sorted(a["modelPackageArn"] for a in asked) == [f"{RISK}/3", f"{RISK}/4", PACKAGE]
    assert plan.outputs["model_package_approvals"] == {
        PACKAGE: "Approved",
        f"{RISK}/3": "Approved",
        f"{RISK}/4": "Approved",
    }


def test_other_tiers_do_not_ask(shipped_plans):
    for stack in ("dev", "staging"):
        assert not [i for i in shipped_plans[stack].invokes if i.token == registry.INVOKE]


@pytest.mark.parametrize("status", ["PendingManualApproval", "Rejected"])
def test_an_unapproved_package_stops_the_prod_plan_naming_it(monkeypatch, status):
    monkeypatch.setattr(cloud, "registry_fixture", lambda: {PACKAGE: status})
    with pytest.raises(
        Exception, match=rf"model package {PACKAGE} \(support-summarizer/stable\) is {status}"
    ):
        plan_stack("prod", root=ROOT)


def test_a_package_the_offline_plan_does_not_know_says_where_to_add_it(monkeypatch):
    monkeypatch.setattr(cloud, "registry_fixture", lambda: {})
    with pytest.raises(Exception, match="infra/plan/fixtures/model_packages.json"):
        plan_stack("prod", root=ROOT)


def test_each_team_gets_a_group_only_its_roles_may_publish_to(shipped_plans):
    plan = shipped_plans["prod"]
    groups = {
        g.inputs["modelPackageGroupName"]: g
        for g in plan.of_type("aws:sagemaker/modelPackageGroup:ModelPackageGroup")
    }
    assert set(groups) == {"modelfleet-prod-customer-experience", "modelfleet-prod-risk"}
    policies = {
        p.inputs["modelPackageGroupName"]: json.loads(p.inputs["resourcePolicy"])
        for p in plan.of_type("aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy")
    }
    (statement,) = policies["modelfleet-prod-risk"]["Statement"]
    assert statement["Principal"] == {
        "AWS": [
            "arn:aws:iam::123456789012:role/risk-ml-engineers",
            "arn:aws:iam::123456789012:role/risk-model-approvers",
        ]
    }
    group_arn = groups["modelfleet-prod-risk"].outputs["arn"]
    assert statement["Resource"] == [
        group_arn,
        group_arn.replace(":model-package-group/", ":model-package/") + "/*",
    ]
    assert "sagemaker:UpdateModelPackage" in statement["Action"]  # approving is the team's
    assert not any(a.endswith("*") for a in statement["Action"])
    assert plan.outputs["model_package_groups"] == {
        "customer-experience": "modelfleet-prod-customer-experience",
        "risk": "modelfleet-prod-risk",
    }
