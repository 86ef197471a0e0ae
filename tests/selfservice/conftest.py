"""A project copy that commands may write to, and what `pulumi new --yes` makes of a template."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tests.conftest import ROOT, copy_project

TEMPLATES = ROOT / "stacks" / "templates"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Pulumi.yaml, stacks/ and policy configs copied; the program linked, so plans run as usual."""
    (tmp_path / "repo").mkdir()
    root = copy_project(tmp_path / "repo")
    shutil.copytree(ROOT / "policies" / "config", root / "policies" / "config")
    (root / "infra").symlink_to(ROOT / "infra")
    monkeypatch.chdir(root)
    return root


def template(name: str) -> dict:
    return YAML(typ="safe", pure=True).load((TEMPLATES / name / "Pulumi.yaml").read_text())


def pulumi_new_yes(name: str, folder: Path, stack: str = "dev", **answers: str) -> Path:
    """The stack file `pulumi new <template> --yes --stack <stack>` writes: every template default
    (or the ``-c`` override), under its key as given (a key without ``ns:`` would take the project name)."""
    config = {
        key: answers.get(key.split(":")[1], spec["default"])
        for key, spec in template(name)["template"]["config"].items()
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"Pulumi.{stack}.yaml"
    YAML().dump({"config": config}, path)
    return path


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under stacks/ and policies/, to prove a refused command wrote nothing."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for d in ("stacks", "policies")
        for p in (root / d).rglob("*")
        if p.is_file()
    }
