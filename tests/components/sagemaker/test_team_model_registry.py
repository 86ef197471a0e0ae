"""TeamModelRegistry under Pulumi's mocks: a group per team, its policy naming that team's roles only."""

from __future__ import annotations

import json

from infra.components.sagemaker.team_model_registry import TeamModelRegistry, TeamModelRegistryArgs
from tests.components.support import TAGS, record_component

ROLES = {"risk": ["arn:aws:iam::111122223333:role/risk"], "search": ["arn:aws:iam::111122223333:role/search"]}


def test_each_team_has_its_own_group_and_policy():
    recorded = record_component(
        lambda: TeamModelRegistry(
            "registry", TeamModelRegistryArgs(environment="test", teams=ROLES, tags=TAGS)
        )
    )
    groups = {
        g.inputs["modelPackageGroupName"]: g
        for g in recorded.plan.of_type("aws:sagemaker/modelPackageGroup:ModelPackageGroup")
    }
    assert set(groups) == {"modelfleet-test-risk", "modelfleet-test-search"}
    assert groups["modelfleet-test-risk"].inputs["tags"]["team"] == "risk"
    for policy in recorded.plan.of_type("aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy"):
        team = policy.inputs["modelPackageGroupName"].removeprefix("modelfleet-test-")
        (statement,) = json.loads(policy.inputs["resourcePolicy"])["Statement"]
        assert statement["Principal"] == {"AWS": ROLES[team]}
        assert statement["Resource"][0] == groups[policy.inputs["modelPackageGroupName"]].outputs["arn"]
    root = recorded.component("modelfleet:sagemaker:TeamModelRegistry")
    assert set(recorded.outputs_of(root)["groups"]) == {"risk", "search"}
