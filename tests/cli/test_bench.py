"""``make bench-cli``'s table: every command beside its goal, a missed goal reported, never failed."""

from __future__ import annotations

from pathlib import Path

from infra.cli import bench
from infra.cli.bench import Case, Timing, render, table_rows
from tests.conftest import ROOT

HELP = Case("modelfleet --help", ("--help",), 0.25)
PLAN_10 = Case("plan 10", ("plan", "--stack", "prod"), 1.5, frozenset({0, 3}))
PLAN_100 = Case("plan 100", ("plan", "--stack", "prod"), 5.0, frozenset({0, 3}))


def test_a_row_shows_the_goal_the_best_and_median_runs_and_whether_the_median_meets_it():
    rows = table_rows([Timing(HELP, (0.12, 0.10, 0.30), 0)])
    assert rows[0] == ["command", "goal", "best", "median", "runs", "status"]
    assert rows[1] == ["modelfleet --help", "< 0.25 s", "0.10 s", "0.12 s", "3", "meets goal"]
    assert table_rows([Timing(HELP, (0.2, 0.3, 0.4), 0)])[1][-1] == "over goal"


def test_a_run_that_stopped_is_not_compared_and_a_policy_refusal_is_a_complete_plan():
    assert table_rows([Timing(HELP, (0.1,), 2)])[1][-1] == "exit 2: stopped, not comparable"
    assert table_rows([Timing(PLAN_10, (1.0,), 3)])[1][-1] == "meets goal (exit 3)"
    assert table_rows([Timing(PLAN_10, (1.0,), 1)])[1][-1] == "exit 1: stopped, not comparable"


def test_the_plans_growth_ratio_is_a_row_of_its_own():
    small, large = Timing(PLAN_10, (1.0, 1.2, 1.1), 0), Timing(PLAN_100, (3.0, 3.3, 3.6), 3)
    ratio = table_rows([small, large], (small, large))[-1]
    assert ratio == [
        "plan command ratio, 100 / 10 models (kept plans)",
        "≤ 4x",
        "3.0x",
        "3.0x",
        "",
        "meets goal",
    ]
    slow = Timing(PLAN_100, (5.0, 5.0, 5.0), 0)
    assert table_rows([small, slow], (small, slow))[-1][-1] == "over goal"
    stopped = Timing(PLAN_100, (0.5,), 2)
    assert table_rows([small, stopped], (small, stopped))[-1][-1] == "a plan stopped, not comparable"


def test_the_table_is_markdown_with_its_columns_lined_up():
    text = render([["command", "best"], ["modelfleet rollout --help", "0.15 s"], ["x", "12.00 s"]])
    assert text.splitlines() == [
        "| command                   | best    |",
        "|---------------------------|---------|",
        "| modelfleet rollout --help | 0.15 s  |",
        "| x                         | 12.00 s |",
    ]


def test_every_row_of_the_issue_is_benched_with_its_goal():
    stacks = {10: Path("/tmp/Pulumi.bench-10.yaml"), 100: Path("/tmp/Pulumi.bench-100.yaml")}
    goals = {case.label: case.goal_seconds for case in bench.cases(stacks, "origin/main")}
    assert goals == {
        "modelfleet --help": 0.25,
        "modelfleet validate --stack prod": 0.6,
        "modelfleet rollout --help": 0.25,
        "modelfleet plan --stack prod (10 generated models, a kept plan)": 1.5,
        "modelfleet plan --stack prod (100 generated models, a kept plan)": 5.0,
        "modelfleet diff --all --base origin/main": 5.0,
        "modelfleet new-model --dry-run (the README's example)": 3.0,
    }
    argv = {case.label: case.argv for case in bench.cases(stacks, "HEAD")}
    assert argv["modelfleet plan --stack prod (100 generated models, a kept plan)"][-1] == str(stacks[100])
    assert "--dry-run" in argv["modelfleet new-model --dry-run (the README's example)"]
    assert f"modelfleet {bench.NEW_MODEL}`" in (ROOT / "README.md").read_text()
