"""The shipped plans that xdist workers share (tests/plan_cache.py) are the plans the engine makes."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest

from infra.plan import Plan, plan_stack
from tests.conftest import ROOT, SHIPPED_STACKS, plan_cache_dir, write_tree
from tests.plan_cache import inputs_digest, shared_plans


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_the_shared_plan_equals_a_fresh_plan_and_survives_saving(shipped_plans, stack, tmp_path):
    fresh = plan_stack(stack, root=ROOT)
    fresh.save(tmp_path / "plan.json")
    assert Plan.load(tmp_path / "plan.json") == fresh
    assert shipped_plans[stack] == fresh
    assert shipped_plans[stack].to_dict() == fresh.to_dict()


def _tree(root: Path) -> Path:
    files = {
        "Pulumi.yaml": "name: p\n",
        "infra/__main__.py": "print(1)\n",
        "infra/plan/prices/eu-west-1.json": "{}\n",
        "stacks/Pulumi.dev.yaml": "config: {}\n",
        "policies/config/dev.json": "{}\n",
        "requirements.txt": "pulumi==1\n",
        "README.md": "# p\n",
        "tests/test_x.py": "\n",
        "infra/notes.md": "\n",
        "stacks/templates/x/Pulumi.yaml": "\n",
    }
    return write_tree(root, files)


@pytest.mark.parametrize(
    "changed",
    [
        "Pulumi.yaml",
        "infra/__main__.py",
        "infra/plan/prices/eu-west-1.json",
        "stacks/Pulumi.dev.yaml",
        "policies/config/dev.json",
        "requirements.txt",
    ],
)
def test_the_digest_changes_with_any_file_that_decides_the_plan(tmp_path, changed):
    root = _tree(tmp_path)
    before = inputs_digest(root)
    (root / changed).write_text((root / changed).read_text() + "# changed\n")
    assert inputs_digest(root) != before


def test_the_digest_ignores_other_files_and_sees_renames_and_new_files(tmp_path):
    root = _tree(tmp_path)
    before = inputs_digest(root)
    for name in ("README.md", "tests/test_x.py", "infra/notes.md", "stacks/templates/x/Pulumi.yaml"):
        (root / name).write_text("other\n")
    assert inputs_digest(root) == before
    (root / "infra/__main__.py").rename(root / "infra/main.py")
    renamed = inputs_digest(root)
    assert renamed != before
    (root / "stacks/Pulumi.prod.yaml").write_text("config: {}\n")
    assert inputs_digest(root) != renamed


def _planner(calls: Counter):
    def plan(stack: str) -> Plan:
        calls[stack] += 1
        return Plan(project="p", stack=stack, region="eu-west-1", resources=[], outputs={"n": 1.5})

    return plan


def test_a_saved_plan_is_loaded_and_not_planned_again_unless_its_inputs_changed(tmp_path):
    calls: Counter = Counter()
    first = shared_plans(SHIPPED_STACKS, tmp_path, "a" * 64, _planner(calls))
    again = shared_plans(SHIPPED_STACKS, tmp_path, "a" * 64, _planner(calls))
    assert again == first and calls == Counter(SHIPPED_STACKS)
    assert first["prod"] == _planner(Counter())("prod")
    shared_plans(SHIPPED_STACKS, tmp_path, "b" * 64, _planner(calls))
    assert calls == Counter({stack: 2 for stack in SHIPPED_STACKS})
    assert not list(tmp_path.glob("*.partial"))


def test_concurrent_callers_plan_each_stack_once_and_at_the_same_time(tmp_path):
    """Threads stand in for workers: flock locks conflict between separately opened files."""
    calls: Counter = Counter()
    both_planning = threading.Barrier(2, timeout=10)
    planned_by: dict[str, str] = {}

    def plan(stack: str) -> Plan:
        if threading.current_thread().name not in planned_by.values():
            both_planning.wait()  # each worker's first plan runs while the other's does
        planned_by[stack] = threading.current_thread().name
        return _planner(calls)(stack)

    results: dict[str, dict[str, Plan]] = {}
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            results[threading.current_thread().name] = shared_plans(SHIPPED_STACKS, tmp_path, "c" * 64, plan)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=worker, name=f"gw{i}") for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert calls == Counter(SHIPPED_STACKS)
    assert set(planned_by.values()) == {"gw0", "gw1"}
    assert results["gw0"] == results["gw1"]


def test_every_worker_of_a_run_shares_one_folder_and_a_run_without_workers_has_its_own(tmp_path):
    factory = SimpleNamespace(getbasetemp=lambda: tmp_path / "pytest-7" / "popen-gw1")
    worker = SimpleNamespace(workerinput={"testrunuid": "abc", "workerid": "gw1"})
    assert plan_cache_dir(worker, factory) == tmp_path / "pytest-7" / "shipped-plans-abc"
    alone = SimpleNamespace(getbasetemp=lambda: tmp_path / "pytest-8")
    assert plan_cache_dir(SimpleNamespace(), alone) == tmp_path / "pytest-8" / "shipped-plans"
