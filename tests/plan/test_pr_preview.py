"""PR previews of big changes: real offline plans of prod with 10 and 100 models added.

Each generated PR adds models (SageMaker and EKS), removes one model, changes one
model's instance type (a forced replacement of its endpoint configuration), puts one
model on an instance type the price table lacks, and breaks one team quota (the
only mandatory violation). The comment must name all of that within GitHub's
limit, the job summary must hold the whole diff, and the text format must be
complete.
"""

from __future__ import annotations

import copy
import io
import json
import os
from pathlib import Path

import pytest
from rich.console import Console
from ruamel.yaml import YAML

from infra.plan import costtext, diff_text, markdown
from infra.plan.bench import generated_model
from infra.plan.cost import PriceTable, estimate
from infra.plan.diff import StackDiff, diff_stack
from infra.plan.engine import plan_stack
from infra.plan.mdtext import escape
from infra.plan.policy import check_plan, load_settings
from tests.conftest import ROOT

SNAPSHOT = Path(__file__).parent / "snapshots" / "pr_comment_10_models.md"
LINKS = markdown.Links(
    "https://github.com/acme/ml/actions/runs/7", "https://github.com/acme/ml/actions/runs/7/artifacts/9"
)
UNPRICED_TYPE = "ml.m5.4xlarge"  # in the instance table, not in the eu-west-1 price table
OVER_QUOTA_TEAM = "team-3"


def _stack_file(folder: Path, models: int) -> Path:
    data = YAML(typ="safe").load((ROOT / "stacks" / "Pulumi.prod.yaml").read_text())
    catalog = data["config"]["modelfleet:models"]
    catalog[:] = [m for m in catalog if m["name"] != "support-summarizer"]  # a removal
    fraud = next(m for m in catalog if m["name"] == "fraud-scorer")
    fraud["instance_type"] = "ml.c5.2xlarge"  # a create-only property: replaces the configuration
    added = [generated_model(i, eks=i % 3 == 2) for i in range(models)]
    added[0]["instance_type"] = UNPRICED_TYPE
    catalog += copy.deepcopy(added)
    path = folder / "Pulumi.prod.yaml"
    with path.open("w") as handle:
        YAML().dump(data, handle)
    return path


def _policy(folder: Path):
    config = json.loads((ROOT / "policies" / "config" / "prod.json").read_text())
    teams = {f"team-{i}": 10_000 for i in range(7)}
    config["team-gpu-quota"]["quotas"] |= teams
    config["team-instance-quota"]["quotas"] |= teams | {OVER_QUOTA_TEAM: 1}
    path = folder / "policy.json"
    path.write_text(json.dumps(config))
    return load_settings(path)


def _pr(shipped_plans, folder: Path, models: int) -> StackDiff:
    before = shipped_plans["prod"]
    after = plan_stack("prod", root=ROOT, stack_file=_stack_file(folder, models))
    policy = _policy(folder)
    prices = PriceTable.for_region(after.region)
    return diff_stack(
        "prod",
        before,
        after,
        (check_plan(before, policy), check_plan(after, policy)),
        (estimate(before, prices), estimate(after, prices)),
    )


@pytest.fixture(scope="module")
def medium(shipped_plans, tmp_path_factory) -> StackDiff:
    return _pr(shipped_plans, tmp_path_factory.mktemp("pr10"), 10)


@pytest.fixture(scope="module")
def big(shipped_plans, tmp_path_factory) -> StackDiff:
    return _pr(shipped_plans, tmp_path_factory.mktemp("pr100"), 100)


def _facts(diff: StackDiff) -> list[str]:
    """What a reviewer must find in the comment's must-see part, whatever its size."""
    facts = [f"| {m.name} | {m.status} |" for m in diff.models]
    facts += [f"**{c.name}**" for c in diff.changes if c.action in ("replace", "remove")]
    for v in diff.new_violations + diff.resolved_violations:
        facts += [f"`{v.policy}`", escape(v.message), f"`{(v.resource or '(stack)').split()[-1]}`"]
    return facts


def _must_see(comment: str) -> str:
    """The comment up to its resource details: what may never be left out."""
    return comment.split("<details>", 1)[0]


def _text(diff: StackDiff, width: int) -> str:
    buffer = io.StringIO()
    diff_text.render(Console(file=buffer, width=width, color_system=None), [diff], "main", "PR #7")
    return buffer.getvalue()


@pytest.mark.parametrize("which", ["medium", "big"])
def test_the_comment_fits_and_names_every_violation_replacement_removal_and_model(which, request):
    diff: StackDiff = request.getfixturevalue(which)
    added = [m for m in diff.models if m.status == "added"]
    assert len(added) == (10 if which == "medium" else 100)
    assert {m.status for m in diff.models} == {"added", "changed", "removed"}
    [mandatory] = [v for v in diff.new_violations if v.level == "mandatory"]
    assert OVER_QUOTA_TEAM in mandatory.message
    assert diff.count("replace") >= 1 and diff.count("remove") >= 1

    comment = markdown.render([diff], "main", "PR #7", links=LINKS)
    assert markdown.size(comment) <= markdown.GITHUB_COMMENT_LIMIT
    missing = [fact for fact in _facts(diff) if fact not in _must_see(comment)]
    assert not missing, missing[:5]
    assert comment.startswith(markdown.MARKER)


def test_a_big_comment_says_it_left_detail_out_and_links_to_the_whole_diff(big):
    comment = markdown.render([big], "main", "PR #7", links=LINKS)
    assert "Detail was left out" in comment
    assert f"[job summary]({LINKS.summary})" in comment and f"[JSON artifact]({LINKS.artifact})" in comment
    assert markdown.size(comment) > 0.8 * markdown.GITHUB_COMMENT_LIMIT  # uses its budget for detail


def test_the_job_summary_holds_every_resource_change(big):
    summary = markdown.render(
        [big], "main", "PR #7", links=LINKS, limit=markdown.STEP_SUMMARY_LIMIT, width=None
    )
    assert markdown.size(summary) <= markdown.STEP_SUMMARY_LIMIT
    assert "left out" not in summary
    assert all(f"**{c.name}**" in summary for c in big.changes)


def test_the_text_format_is_complete_and_keeps_numbers_whole(big):
    text = _text(big, width=200)
    assert "…" not in text
    for change in big.changes:
        assert f"{change.type} {change.name}" in text
        for p in change.properties:
            assert f"{p.path}: {json.dumps(p.old, sort_keys=True, default=str)}" in text
    for v in big.new_violations:
        assert v.message in text
    narrow = _text(big, width=80)
    assert "…" not in narrow
    assert all(f"model {m.name} ({m.status})" in narrow for m in big.models)  # one section per model
    for m in big.models:  # too wide for 80 columns: one whole line per row, never squashed cells
        delta = costtext.part_delta(m.before, m.after)
        assert f"model: {m.name}  status: {m.status}" in narrow and f"change (max): {delta}" in narrow
    wide = _text(big, width=200)
    assert all(f" {costtext.part_delta(m.before, m.after)} " in wide for m in big.models)


def test_an_unpriced_model_is_unknown_and_the_totals_say_incomplete(medium):
    unpriced = next(m for m in medium.models if m.name == "bench-model-000")
    assert unpriced.after is not None and not unpriced.after.known
    priced = next(m for m in medium.models if m.name == "bench-model-001")
    assert priced.after is not None and priced.after.known and priced.after.high > 0
    assert medium.delta_unpriced and medium.cost_after.unpriced
    count = sum(u.count for u in medium.delta_unpriced)
    comment = markdown.render([medium], "main", "PR #7")
    assert f"incomplete: {count} resource" in comment
    assert f"sagemaker:{UNPRICED_TYPE}" in comment  # the missing price is named, with its region
    assert "| bench-model-000 | added |" in comment and "| none → unknown | unknown |" in comment
    text = " ".join(_text(medium, width=120).split())
    assert "monthly cost change (max): unknown" in text and f"incomplete: {count} resource" in text


def test_a_saved_json_diff_renders_the_same_comment(medium):
    again = StackDiff.from_dict(json.loads(json.dumps(medium.to_dict(), default=str)))
    assert again == medium
    assert markdown.render([again], "main", "PR #7") == markdown.render([medium], "main", "PR #7")


def test_the_medium_comment_matches_its_snapshot(medium):
    """A readable example of the comment; rewrite it with UPDATE_SNAPSHOTS=1 after a deliberate change."""
    comment = markdown.render([medium], "main", "PR #7", links=LINKS)
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(comment, encoding="utf-8")
    assert comment == SNAPSHOT.read_text(encoding="utf-8")
