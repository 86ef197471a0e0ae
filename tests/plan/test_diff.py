"""Diffs of real offline plans: what a stack edit adds, replaces and removes, and the PR comment."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from infra.cli.commands import main
from infra.plan import plan_stack
from infra.plan.cost import PriceTable, estimate
from infra.plan.diff import (
    CostTotals,
    PropertyChange,
    ResourceChange,
    StackDiff,
    diff_stack,
    resource_changes,
)
from infra.plan.markdown import GITHUB_COMMENT_LIMIT, Links, render, size
from infra.plan.model import Plan, PlannedResource
from infra.plan.policy import check_plan, load_settings
from infra.plan.replacements import forces_replacement
from tests.conftest import ROOT

DEV = (ROOT / "stacks" / "Pulumi.dev.yaml").read_text()
NEW_MODEL = """\
    - name: ranker
      team: search
      backend: sagemaker
      framework: {name: sklearn, version: 1.2-1}
      instance_type: ml.m5.large
      variants:
        stable: {model_data: s3://acme-ml-artifacts-dev/ranker/v1/model.tar.gz, instance_count: 1}
      autoscaling: {min_instances: 1, max_instances: 2, target_invocations_per_instance_per_minute: 300}
      slo: {p99_latency_ms: 200, error_rate_percent: 1}
"""


def _plan(tmp_path, text: str, name: str = "dev"):
    path = tmp_path / f"Pulumi.{name}.yaml"
    path.write_text(text)
    return plan_stack("dev", root=ROOT, stack_file=path)


@pytest.fixture(scope="module")
def dev_plan(shipped_plans):
    return shipped_plans["dev"]


def test_adding_a_model_adds_exactly_its_resources(tmp_path, dev_plan):
    after = _plan(tmp_path, DEV.replace("  modelfleet:cluster:", NEW_MODEL + "  modelfleet:cluster:"))
    changes = resource_changes(dev_plan, after)
    assert {c.action for c in changes} == {"add"}
    added = {c.name for c in changes}
    assert added and all(name.startswith("platform-ranker") for name in added)
    types = {c.type for c in changes}
    assert {"aws:sagemaker/endpointConfiguration:EndpointConfiguration", "aws:sagemaker/model:Model"} <= types


def test_a_canary_weight_change_replaces_the_endpoint_configuration(tmp_path, dev_plan):
    edited = DEV.replace("instance_count: 1, weight: 80}", "instance_count: 1, weight: 50}").replace(
        "v13/model.tar.gz, instance_count: 1, weight: 20}", "v13/model.tar.gz, instance_count: 1, weight: 50}"
    )
    changes = resource_changes(dev_plan, _plan(tmp_path, edited))
    [config] = [c for c in changes if c.type == "aws:sagemaker/endpointConfiguration:EndpointConfiguration"]
    assert config.action == "replace"
    weights = {p.path: (p.old, p.new) for p in config.properties if p.path.endswith("initialVariantWeight")}
    assert weights == {
        "productionVariants[0].initialVariantWeight": (80, 50),
        "productionVariants[1].initialVariantWeight": (20, 50),
    }
    assert all(p.replaces for p in config.properties)


def test_a_rename_is_a_removal_plus_an_addition(tmp_path, dev_plan):
    changes = resource_changes(
        dev_plan, _plan(tmp_path, DEV.replace("name: churn-predictor", "name: churn-scorer"))
    )
    removed = {c.name for c in changes if c.action == "remove"}
    added = {c.name for c in changes if c.action == "add"}
    assert removed and all(n.startswith("platform-churn-predictor") for n in removed)
    assert {n.replace("churn-scorer", "churn-predictor") for n in added} == removed


def test_replacement_table_knows_create_only_paths():
    assert forces_replacement("aws:eks/nodeGroup:NodeGroup", "amiType")
    assert not forces_replacement("aws:eks/nodeGroup:NodeGroup", "scalingConfig.maxSize")
    assert not forces_replacement("aws:sagemaker/endpointConfiguration:EndpointConfiguration", "tags.team")
    assert forces_replacement("kubernetes:apps/v1:Deployment", "spec.selector.matchLabels.model")


def _huge_diff(stack: str, n: int) -> StackDiff:
    changes = [
        ResourceChange(
            "update",
            f"urn:{i}",
            "aws:ec2/subnet:Subnet",
            f"subnet-{i}",
            [PropertyChange("tags.owner", "a" * 90, "b" * 90, False)],
        )
        for i in range(n)
    ]
    return StackDiff(stack, changes, [], [], CostTotals(1, 2), CostTotals(1, 3))


def test_markdown_always_fits_a_github_comment_and_points_to_the_whole_diff():
    diffs = [_huge_diff(stack, 20_000) for stack in ("dev", "staging", "prod")]
    text = render(diffs, "main", "pr-7", links=Links("https://ci/run/1", "https://ci/artifact/2"))
    assert size(text) <= GITHUB_COMMENT_LIMIT
    assert text.index("| dev |") < text.index("| prod |")  # the summary always leads
    assert "Detail was left out" in text
    assert "[job summary](https://ci/run/1)" in text and "[JSON artifact](https://ci/artifact/2)" in text


def test_small_diffs_keep_every_detail():
    text = render([_huge_diff("dev", 3)], "main", "pr-7")
    assert "left out" not in text
    assert text.count("`tags.owner`") == 3 and "<details>" in text


@pytest.fixture(scope="module")
def clone_with_canary_change(tmp_path_factory):
    clone = tmp_path_factory.mktemp("repo") / "modelfleet"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    stack = clone / "stacks" / "Pulumi.dev.yaml"
    stack.write_text(
        stack.read_text()
        .replace("weight: 80}", "weight: 70}")
        .replace(
            "v13/model.tar.gz, instance_count: 1, weight: 20}",
            "v13/model.tar.gz, instance_count: 1, weight: 30}",
        )
    )
    return clone


def _modelfleet(clone, *args):
    env = {**os.environ, "PYTHONPATH": str(clone)}
    return subprocess.run(
        [sys.executable, "-m", "infra.cli", *args],
        check=False,
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
    )


def test_diff_command_against_head_of_a_real_clone(clone_with_canary_change, tmp_path):
    out = tmp_path / "diff.json"
    run = _modelfleet(
        clone_with_canary_change,
        "diff",
        "--base",
        "HEAD",
        "--stack",
        "dev",
        "--format",
        "json",
        "--out",
        str(out),
    )
    assert run.returncode == 0, run.stderr
    [dev] = json.loads(out.read_text())["stacks"]
    replaced = [c for c in dev["changes"] if c["action"] == "replace"]
    assert [c["type"] for c in replaced] == ["aws:sagemaker/endpointConfiguration:EndpointConfiguration"]
    assert dev["counts"]["add"] == dev["counts"]["remove"] == 0


def test_diff_against_an_unknown_revision_fails_cleanly(clone_with_canary_change):
    run = _modelfleet(clone_with_canary_change, "diff", "--base", "no-such-ref", "--stack", "dev")
    assert run.returncode == 1
    assert "cannot read git revision 'no-such-ref'" in run.stderr
    assert "Traceback" not in run.stderr


def test_a_new_artifact_replaces_the_model_and_its_configuration_and_updates_the_endpoint(tmp_path, dev_plan):
    """The offline engine names by URN; the diff still knows a replacement gets a new name."""
    edited = DEV.replace("fraud-scorer/v12/model.tar.gz", "fraud-scorer/v14/model.tar.gz")
    changes = {c.name: c for c in resource_changes(dev_plan, _plan(tmp_path, edited))}
    assert changes["platform-fraud-scorer-stable"].action == "replace"
    config = changes["platform-fraud-scorer-config"]
    assert config.action == "replace"
    assert [p.path for p in config.properties] == ["productionVariants[0].modelName"]
    endpoint = changes["platform-fraud-scorer-endpoint"]
    assert endpoint.action == "update"
    assert [p.path for p in endpoint.properties] == ["endpointConfigName"]
    assert "platform-fraud-scorer-canary" not in changes


def test_a_saved_diff_renders_again_as_text_markdown_and_summary(tmp_path, capsys):
    saved = tmp_path / "diff.json"
    saved.write_text(json.dumps({"base": "main", "stacks": [_huge_diff("prod", 3_000).to_dict()]}))
    text = tmp_path / "diff.txt"
    assert main(["diff", "--from", str(saved), "--format", "text", "--out", str(text)]) == 0
    written = text.read_text()
    assert written.count("tags.owner") == 3_000 and "…" not in written
    comment = tmp_path / "comment.md"
    links = ["--summary-url", "https://ci/run/1", "--artifact-url", "https://ci/a/2"]
    assert main(["diff", "--from", str(saved), "--format", "markdown", "--out", str(comment), *links]) == 0
    assert size(comment.read_text()) <= GITHUB_COMMENT_LIMIT and "(https://ci/a/2)" in comment.read_text()
    summary = tmp_path / "summary.md"
    assert (
        main(
            ["diff", "--from", str(saved), "--format", "markdown", "--for", "summary", "--out", str(summary)]
        )
        == 0
    )
    assert summary.read_text().count("`tags.owner`") == 3_000


def test_a_file_that_is_not_a_saved_diff_is_one_clear_line(tmp_path, capsys):
    bad = tmp_path / "plan.json"
    bad.write_text('{"schema_version": 1}')
    assert main(["diff", "--from", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "not a `modelfleet diff --format json` file" in err and "Traceback" not in err
    assert main(["diff", "--from", str(tmp_path / "missing.json")]) == 2


def test_a_changed_unpriced_resource_makes_the_delta_unknown_even_on_the_same_basis():
    def plan(storage: int) -> Plan:
        db = PlannedResource(
            "urn:db", "aws:rds/instance:Instance", "db", None, True, {"allocatedStorage": storage}
        )
        return Plan("modelfleet", "dev", "eu-west-1", [db])

    table = PriceTable("eu-west-1", "x", "x", 730, {}, {})
    before, after = plan(10), plan(20)
    policy = load_settings(None)
    diff = diff_stack(
        "dev",
        before,
        after,
        (check_plan(before, policy), check_plan(after, policy)),
        (estimate(before, table), estimate(after, table)),
    )
    assert [c.action for c in diff.changes] == ["update"]
    assert [(u.type, u.count) for u in diff.delta_unpriced] == [("aws:rds/instance:Instance", 1)]


@pytest.mark.parametrize(
    "breakage",
    [
        lambda d: d.update(changes={"not": "a list"}),
        lambda d: d["cost"]["before"].update(low="a"),
        lambda d: d["changes"][0].update(action="zap"),
        lambda d: d["models"].append({"name": "m", "status": "added", "counts": {"add": "3"}}),
    ],
)
def test_a_saved_diff_of_the_wrong_shape_is_one_clear_line(breakage, tmp_path, capsys):
    data = _huge_diff("prod", 2).to_dict()
    breakage(data)
    saved = tmp_path / "diff.json"
    saved.write_text(json.dumps({"base": "main", "stacks": [data]}))
    for fmt in ("text", "markdown"):
        assert main(["diff", "--from", str(saved), "--format", fmt]) == 2
        err = capsys.readouterr().err
        assert "not a `modelfleet diff --format json` file" in err and "Traceback" not in err


def test_an_unwritable_out_is_one_clear_line(tmp_path, capsys):
    saved = tmp_path / "diff.json"
    saved.write_text(json.dumps({"base": "main", "stacks": [_huge_diff("prod", 2).to_dict()]}))
    for fmt in ("text", "markdown"):
        out = str(tmp_path / "missing" / "x")
        assert main(["diff", "--from", str(saved), "--format", fmt, "--out", out]) == 2
        assert "cannot write" in capsys.readouterr().err
