"""The PR comment under adversarial sizes: it always fits, and never silently drops a fact.

Synthetic diffs, each built to break one layer: thousands of violations, huge
messages, thousands of stacks or of unpriced resource types.
"""

from __future__ import annotations

from infra.plan.cost import Unpriced
from infra.plan.diff import CostTotals, ResourceChange, StackDiff
from infra.plan.markdown import GITHUB_COMMENT_LIMIT, render
from infra.plan.mdtext import escape, size
from infra.plan.policy import Violation

RDS = "aws:rds/instance:Instance"


def _violation(
    i: int, level: str = "advisory", message: str = "resources must carry the owner tag"
) -> Violation:
    return Violation("tagging", level, message, f"urn:{i}", f"aws:ec2/subnet:Subnet subnet-{i}")


def _diff(stack: str, violations=(), changes=(), unpriced=()) -> StackDiff:
    return StackDiff(
        stack, list(changes), list(violations), [], CostTotals(1, 2), CostTotals(1, 2, tuple(unpriced))
    )


def _must_see(comment: str) -> str:
    return comment.split("<details>", 1)[0]


def test_a_flood_of_advisory_violations_never_hides_another_stacks_mandatory_one_or_removal():
    dev = _diff("dev", [_violation(i) for i in range(1_500)])
    quota = Violation(
        "team-instance-quota", "mandatory", "team risk is over quota", "urn:q", f"{RDS} prod-db"
    )
    removal = ResourceChange("remove", "urn:db", RDS, "prod-main-database")
    comment = render([dev, _diff("prod", [quota], [removal])], "main", "PR #1")
    assert size(comment) <= GITHUB_COMMENT_LIMIT
    shown = _must_see(comment)
    assert "team risk is over quota" in shown and "**prod-main-database**" in shown


def test_when_even_names_do_not_fit_the_comment_says_what_it_left_out():
    messages = [f"violation {i}: " + "x" * 300 for i in range(6_000)]
    dev = _diff("dev", [_violation(i, message=m) for i, m in enumerate(messages)])
    comment = render([dev, _diff("prod", [_violation(0, "mandatory", "over quota")])], "main", "PR #1")
    assert size(comment) <= GITHUB_COMMENT_LIMIT
    assert "over quota" in comment  # the mandatory one goes first
    assert "dev: not all shown here" in comment and "6,000 new advisory violations" in comment
    assert "Even the names did not all fit" in comment


def test_huge_messages_are_cut_and_every_resource_is_still_named():
    violations = [_violation(i, "mandatory", "m" * 70_000) for i in range(3)]
    comment = render([_diff("prod", violations)], "main", "PR #1")
    assert size(comment) <= GITHUB_COMMENT_LIMIT
    assert all(f"`subnet-{i}`" in _must_see(comment) for i in range(3))


def test_thousands_of_violations_with_distinct_messages_are_all_named():
    violations = [_violation(i, message=f"problem {i} " + "y" * 290) for i in range(3_000)]
    comment = render([_diff("prod", violations)], "main", "PR #1")
    assert size(comment) <= GITHUB_COMMENT_LIMIT
    assert all(f"`subnet-{i}`" in comment for i in range(3_000))


def test_thousands_of_stacks_or_unpriced_types_still_fit():
    unpriced = [
        Unpriced(f"aws:x/t{i}:T{i}", "eu-west-1", 1, ("no pricing rule for this type",)) for i in range(3_000)
    ]
    assert size(render([_diff("prod", unpriced=unpriced)], "main", "PR #1")) <= GITHUB_COMMENT_LIMIT
    stacks = [_diff(f"stack-{i}") for i in range(3_000)]
    assert size(render(stacks, "main", "PR #1")) <= GITHUB_COMMENT_LIMIT


def test_messages_are_inert_markdown_on_one_line():
    assert escape("a <b> *c* _d_ | e\nf") == r"a \<b\> \*c\* \_d\_ \| e f"


def test_the_comment_workflow_finds_its_comment_by_the_renderers_marker():
    from infra.plan.markdown import MARKER
    from tests.conftest import ROOT

    workflow = (ROOT / ".github" / "workflows" / "preview-comment.yml").read_text()
    assert f"const marker = '{MARKER}';" in workflow
    assert render([_diff("dev")], "main", "PR #1").startswith(MARKER)
