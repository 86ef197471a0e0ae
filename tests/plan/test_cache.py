"""The user's plan cache (infra/plan/cache.py): a plan read back equals the plan made, and any changed input misses."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from infra.contracts import eks_versions
from infra.plan import cache as plan_cache
from infra.plan import engine
from infra.plan.cache import ENV, PlanCache, default_folder, plan_key, same_program
from infra.plan.engine import plan_stack
from infra.plan.model import Plan
from infra.specs.dlc_cache import CACHE_DIR_ENV
from tests.conftest import ROOT, write_tree


def test_the_suite_never_uses_the_users_cache():
    assert os.environ[ENV] == "off"
    assert PlanCache.default() is None


@pytest.mark.parametrize("value", ["off", "OFF", "0", "false", "no", "none", " "])
def test_the_env_turns_the_cache_off(monkeypatch, value):
    monkeypatch.setenv(ENV, value)
    assert default_folder() is None


def test_the_env_names_the_folder_else_the_users_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV, str(tmp_path / "plans"))
    assert default_folder() == tmp_path / "plans"
    monkeypatch.delenv(ENV)
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "mine"))  # modelfleet's one cache folder
    assert default_folder() == tmp_path / "mine" / "plans"
    monkeypatch.delenv(CACHE_DIR_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_folder() == tmp_path / "xdg" / "modelfleet" / "plans"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_folder() == tmp_path / "home" / ".cache" / "modelfleet" / "plans"


@pytest.fixture
def counted(monkeypatch) -> list[str]:
    """The stacks the engine really planned (ran the program for)."""
    planned: list[str] = []
    record = engine.record

    def counting(program, **kwargs):
        planned.append(kwargs["stack"])
        return record(program, **kwargs)

    monkeypatch.setattr(engine, "record", counting)
    return planned


def test_a_second_plan_of_the_same_inputs_is_read_back_and_equals_the_first(shipped_plans, tmp_path, counted):
    kept = PlanCache(tmp_path / "plans")
    first = plan_stack("dev", root=ROOT, cache=kept)
    again = plan_stack("dev", root=ROOT, cache=kept)
    assert counted == ["dev"]
    assert again == first == shipped_plans["dev"]
    assert again.to_json() == shipped_plans["dev"].to_json()
    assert len(list((tmp_path / "plans").glob("*.json"))) == 1


def test_a_changed_stack_file_misses(tmp_path, counted):
    kept = PlanCache(tmp_path / "plans")
    edited = tmp_path / "Pulumi.dev.yaml"
    shutil.copy(ROOT / "stacks" / "Pulumi.dev.yaml", edited)
    plan_stack("dev", root=ROOT, stack_file=edited, cache=kept)
    edited.write_text(
        edited.read_text().replace("modelfleet:owner: ml-platform", "modelfleet:owner: ml-infra")
    )
    changed = plan_stack("dev", root=ROOT, stack_file=edited, cache=kept)
    assert counted == ["dev", "dev"]
    assert changed.get("aws:ec2/vpc:Vpc", "platform-network-vpc").tags["owner"] == "ml-infra"


def test_no_cache_plans_every_time(counted):
    plan_stack("dev", root=ROOT, cache=None)
    plan_stack("dev", root=ROOT, cache=None)
    assert counted == ["dev", "dev"]


def _project(root: Path) -> Path:
    """A small tree shaped like the project: a project file, a stack file, a program folder."""
    files = {
        "Pulumi.yaml": "name: p\nmain: infra/\n",
        "stacks/Pulumi.dev.yaml": "config: {}\n",
        "infra/__main__.py": "print(1)\n",
        "infra/plan/fixtures/model_packages.json": "{}\n",
        "infra/ops/drift/job.py": "\n",
    }
    return write_tree(root, files)


def _key(root: Path, stack: str = "dev") -> str:
    stack_file = root / "stacks" / f"Pulumi.{stack}.yaml"
    return plan_key(stack, stack_file.read_bytes(), root / "Pulumi.yaml", root / "infra")


@pytest.mark.parametrize(
    "changed",
    ["Pulumi.yaml", "stacks/Pulumi.dev.yaml", "infra/__main__.py", "infra/plan/fixtures/model_packages.json"],
)
def test_the_key_changes_with_every_input_file(tmp_path, changed):
    root = _project(tmp_path)
    before = _key(root)
    assert _key(root) == before
    (root / changed).write_text((root / changed).read_text() + "# changed\n")
    assert _key(root) != before


def test_the_key_sees_new_renamed_and_removed_program_files(tmp_path):
    root = _project(tmp_path)
    keys = {_key(root)}
    (root / "infra" / "ops" / "drift" / "store.py").write_text("\n")  # an asset folder gains a file
    keys.add(_key(root))
    (root / "infra" / "ops" / "drift" / "store.py").rename(root / "infra" / "ops" / "drift" / "stats.py")
    keys.add(_key(root))
    (root / "infra" / "ops" / "drift" / "stats.py").unlink()
    assert _key(root) in keys and len(keys) == 3


def test_the_key_changes_with_the_stack_name_the_day_the_sdk_env_and_the_packages(tmp_path, monkeypatch):
    root = _project(tmp_path)
    before = _key(root)
    shutil.copy(root / "stacks" / "Pulumi.dev.yaml", root / "stacks" / "Pulumi.qa.yaml")
    assert _key(root, "qa") != before
    later = eks_versions.today().replace(year=2099)
    with monkeypatch.context() as patched:
        patched.setattr(eks_versions, "today", lambda: later)
        assert _key(root) != before
    with monkeypatch.context() as patched:
        patched.setenv("PULUMI_CONFIG", '{"modelfleet:tier": "prod"}')
        assert _key(root) != before
    with monkeypatch.context() as patched:
        patched.setattr(plan_cache, "_distributions", lambda: ["pulumi-9.9.9.dist-info"])
        assert _key(root) != before
    assert _key(root) == before


def test_a_broken_entry_is_a_miss_and_is_replaced(tmp_path, counted):
    kept = PlanCache(tmp_path / "plans")
    plan = plan_stack("dev", root=ROOT, cache=kept)
    (entry,) = (tmp_path / "plans").glob("*.json")
    entry.write_text('{"schema_version": 1, "project": ')
    assert plan_stack("dev", root=ROOT, cache=kept) == plan
    assert counted == ["dev", "dev"]
    assert Plan.from_json(entry.read_text()) == plan


def test_the_oldest_entries_go_beyond_the_limit(tmp_path):
    kept = PlanCache(tmp_path, keep=2)
    plan = Plan(project="p", stack="s", region="eu-west-1", resources=[])
    for index, key in enumerate(["a", "b", "c"]):
        kept.save(key, plan)
        os.utime(tmp_path / f"{key}.json", (index, index))
    kept.save("d", plan)
    assert sorted(p.stem for p in tmp_path.glob("*.json")) == ["c", "d"]
    assert kept.load("c") == plan and kept.load("a") is None


def test_a_folder_that_cannot_be_written_is_no_error(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    kept = PlanCache(blocked / "plans")
    kept.save("k", Plan(project="p", stack="s", region="eu-west-1", resources=[]))
    assert kept.load("k") is None


def test_same_program_compares_the_project_file_the_program_and_the_pack(tmp_path):
    one, other = _project(tmp_path / "one"), _project(tmp_path / "other")
    assert same_program(one, other)
    (other / "stacks" / "Pulumi.dev.yaml").write_text("config: {x: 1}\n")  # stack files aside
    assert same_program(one, other)
    (other / "policies").mkdir()
    assert not same_program(one, other)
    (one / "policies").mkdir()
    assert same_program(one, other)
    (other / "infra" / "ops" / "drift" / "__pycache__").mkdir()
    (other / "infra" / "ops" / "drift" / "__pycache__" / "job.cpython-311.pyc").write_bytes(b"\0")
    assert same_program(one, other)  # bytecode plans nothing
    (other / "infra" / "ops" / "drift" / "store.py").write_text("\n")
    assert not same_program(one, other)


def test_no_plan_digests_a_folder_so_bytecode_is_never_an_input(shipped_plans):
    """The cache key and ``same_program`` leave ``__pycache__`` out: a folder archive would need it back."""
    digested = {
        p for plan in shipped_plans.values() for p in re.findall(r"<file (\S+) sha256:", plan.to_json())
    }
    assert "infra/ops/drift/job.py" in digested  # the drift job's code, file by file
    assert sorted(path for path in digested if not (ROOT / path).is_file()) == []
