"""ImageMirrors under Pulumi's mocks: a pull-through cache rule per mirror, and the node role's right to fill it."""

from __future__ import annotations

import json

import pytest

from infra.components.eks.image_mirrors import ImageMirrors, ImageMirrorsArgs, Mirror, import_policy
from tests.components.support import ACCOUNT, Recorded, direct_children, known, outside, record_component

COMPONENT = "modelfleet:eks:ImageMirrors"
RULE = "aws:ecr/pullThroughCacheRule:PullThroughCacheRule"
POLICY = "aws:iam/rolePolicy:RolePolicy"
SECRET = f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:ecr-pullthroughcache/ghcr-Ab12Cd"
MIRRORS = [Mirror("ghcr", "ghcr.io", SECRET), Mirror("ecr-public", "public.ecr.aws", None)]


@pytest.fixture(scope="module")
def recorded() -> Recorded:
    return record_component(
        lambda: ImageMirrors(
            "mirrors",
            ImageMirrorsArgs(
                mirrors=MIRRORS,
                region="eu-west-1",
                partition="aws",
                account_id=known(ACCOUNT),
                node_role_name=known("modelfleet-test-node"),
            ),
        )
    )


def test_one_rule_per_mirror_and_one_policy_all_inside_the_component(recorded):
    root = recorded.component(COMPONENT)
    assert direct_children(recorded.plan, root) == [
        (RULE, "mirrors-ecr-public"),
        (RULE, "mirrors-ghcr"),
        (POLICY, "mirrors-import"),
    ]
    assert outside(recorded.plan, root) == []


def test_rules_name_the_upstream_and_its_credential_only_where_ecr_needs_one(recorded):
    rules = {r.name: r.inputs for r in recorded.plan.of_type(RULE)}
    assert rules["mirrors-ghcr"] == {
        "ecrRepositoryPrefix": "ghcr", "upstreamRegistryUrl": "ghcr.io", "credentialArn": SECRET,
    }  # fmt: skip
    assert "credentialArn" not in rules["mirrors-ecr-public"]


def test_the_node_role_may_fill_the_mirrors_prefixes_and_nothing_else(recorded):
    policy = recorded.plan.get(POLICY, "mirrors-import").inputs
    assert policy["role"] == "modelfleet-test-node"
    (statement,) = json.loads(policy["policy"])["Statement"]
    assert statement["Action"] == ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"]
    assert statement["Resource"] == [
        f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/ghcr/*",
        f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/ecr-public/*",
    ]


def test_the_import_policy_follows_the_partition():
    (statement,) = json.loads(import_policy("aws-cn", "cn-north-1", ACCOUNT, ["ghcr"]))["Statement"]
    assert statement["Resource"] == [f"arn:aws-cn:ecr:cn-north-1:{ACCOUNT}:repository/ghcr/*"]


def test_registers_the_registry_of_each_rule(recorded):
    outputs = recorded.outputs_of(recorded.component(COMPONENT))
    assert set(outputs["registry_ids"]) == {"ghcr", "ecr-public"}
