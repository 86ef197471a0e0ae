"""Plans made at once in forked workers (infra/plan/parallel.py) are the plans made one after the other."""

from __future__ import annotations

import shutil

import pytest

from infra.plan import compare as compare_module
from infra.plan import engine
from infra.plan.bench import pr_copy
from infra.plan.cache import same_program
from infra.plan.compare import compare
from infra.plan.engine import PlanError
from infra.plan.parallel import StackPlan, plan_stacks
from infra.settings.platform import SettingsError
from tests.conftest import ROOT, SHIPPED_STACKS

INVALID = "config:\n  aws:region: eu-west-1\n  modelfleet:tier: prod\n"  # no owner, cost centre, network
STOPS = (  # valid settings; the program stops: the region has too few zones
    "config:\n  aws:region: us-west-1\n  modelfleet:tier: prod\n  modelfleet:owner: o\n"
    "  modelfleet:cost_center: c\n  modelfleet:network:\n    cidr: 10.0.0.0/16\n"
)


def test_plans_made_in_workers_are_the_plans_made_here(shipped_plans):
    plans = plan_stacks([StackPlan(stack) for stack in SHIPPED_STACKS], root=ROOT, cache=None, workers=2)
    assert [plan.to_json() for plan in plans] == [shipped_plans[s].to_json() for s in SHIPPED_STACKS]


def test_equal_inputs_are_planned_once_and_each_gets_its_own_copy(shipped_plans, tmp_path, monkeypatch):
    planned = []
    record = engine.record
    monkeypatch.setattr(
        engine, "record", lambda program, **kw: planned.append(kw["stack"]) or record(program, **kw)
    )
    same_bytes = tmp_path / "Pulumi.dev.yaml"
    shutil.copy(ROOT / "stacks" / "Pulumi.dev.yaml", same_bytes)
    one, other = plan_stacks(
        [StackPlan("dev"), StackPlan("dev", same_bytes)], root=ROOT, cache=None, workers=1
    )
    assert planned == ["dev"]
    assert one == other == shipped_plans["dev"]
    assert one is not other and one.resources[0].inputs is not other.resources[0].inputs


@pytest.mark.parametrize("workers", [1, 2])
def test_the_first_failure_in_order_raises_the_engines_own_error(tmp_path, workers):
    (tmp_path / "invalid.yaml").write_text(INVALID)
    (tmp_path / "stops.yaml").write_text(STOPS)
    invalid, stops = (
        StackPlan("custom", tmp_path / "invalid.yaml"),
        StackPlan("custom", tmp_path / "stops.yaml"),
    )
    with pytest.raises(SettingsError, match="modelfleet:cost_center"):
        plan_stacks([StackPlan("dev"), invalid, stops], root=ROOT, cache=None, workers=workers)
    with pytest.raises(PlanError, match="az_count is 3 but us-west-1 has 2 available zones"):
        plan_stacks([stops, invalid], root=ROOT, cache=None, workers=workers)


def test_when_failed_decides_what_a_failed_plan_gives(shipped_plans, tmp_path):
    (tmp_path / "stops.yaml").write_text(STOPS)
    failed = []
    plans = plan_stacks(
        [StackPlan("custom", tmp_path / "stops.yaml"), StackPlan("dev")],
        root=ROOT,
        cache=None,
        workers=2,
        when_failed=failed.append,
    )
    assert failed == [0]
    assert plans[0] is None and plans[1] == shipped_plans["dev"]


def test_diff_plans_an_unchanged_program_here_exactly_as_its_own_cli_would(tmp_path, monkeypatch):
    """The base planned in this process's workers, or by the base's CLI in a subprocess: the same diff."""
    repo = pr_copy(ROOT, tmp_path / "repo")  # every stack gains a model
    if not same_program(repo, ROOT):
        pytest.skip("this checkout holds files git does not list under infra/ or policies/")
    by_subprocess = []
    start_plan = compare_module.start_plan
    monkeypatch.setattr(
        compare_module, "start_plan", lambda *args: by_subprocess.append(args[1]) or start_plan(*args)
    )
    here = compare(repo, "HEAD", ["dev"])
    assert by_subprocess == []
    monkeypatch.setattr(compare_module, "same_program", lambda *_: False)
    there = compare(repo, "HEAD", ["dev"])
    assert by_subprocess == ["dev"]
    assert [d.to_dict() for d in here] == [d.to_dict() for d in there]
    assert here[0].count("add") > 0
