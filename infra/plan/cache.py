"""Plans kept between runs: a stack planned again from the same inputs is read back, not planned.

A plan is a function of what the engine reads, so a plan is stored under a content
hash of all of it (``plan_key``): the stack's name and file, the project file, every
file of the program's folder and of the engine's package (code, data, fixtures, the
files assets are made of; Python's bytecode aside), the Python version and every installed distribution with
its version, the day support windows are judged on, and the ``PULUMI_*`` environment
variables the SDK reads. Change any of them and the key changes: nothing is ever
invalidated, an old entry is just never asked for again, and the oldest go when
there are more than ``KEEP``.

Where: ``$MODELFLEET_PLAN_CACHE`` if set (``off`` turns the cache off), else ``plans/``
in modelfleet's cache folder (``$MODELFLEET_CACHE_DIR``, ``$XDG_CACHE_HOME/modelfleet``
or ``~/.cache/modelfleet``: ``infra.specs.dlc_cache.cache_dir``). Only plans
that succeeded are kept. The cache is an optimisation: a folder that cannot be read
or written, or an entry that does not parse, is a miss, never an error. The test suite
turns it off (tests/conftest.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.contracts import eks_versions
from infra.plan.model import Plan
from infra.specs.dlc_cache import cache_dir

ENV = "MODELFLEET_PLAN_CACHE"
OFF = frozenset({"off", "0", "false", "no", "none"})
KEEP = 64  # entries; a shipped stack's plan takes about 0.3 MB
ENGINE_PACKAGE = Path(__file__).resolve().parents[1]  # infra/: the engine and the program it imports


def default_folder() -> Path | None:
    """Where plans are kept, or None when ``$MODELFLEET_PLAN_CACHE`` turns the cache off."""
    chosen = os.environ.get(ENV)
    if chosen is not None:
        return None if chosen.strip().lower() in OFF or not chosen.strip() else Path(chosen)
    return cache_dir() / "plans"  # modelfleet's one cache folder (infra.specs.dlc_cache decides it)


# Python's bytecode is no input of a plan: the program archives its sources file by file
# (drift_monitor.job_code), and tests/plan/test_cache.py checks that no plan digests a folder.
BYTECODE = "__pycache__"


def _tree(digest: Any, folder: Path) -> None:
    """Every file under ``folder`` but bytecode: its path from there and a hash of its bytes."""
    files = (p for p in folder.rglob("*") if p.is_file() and BYTECODE not in p.relative_to(folder).parts)
    for path in sorted(files):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())


def _distributions() -> list[str]:
    """Every installed distribution as its metadata folder names it (name and version)."""
    found = set()
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        found.update(n for n in names if n.endswith((".dist-info", ".egg-info")))
    return sorted(found)


# What, beside its stack files, decides how a checkout plans a stack (``same_program``): the
# project file, the program with the engine and all their files, and the policy pack that
# ``modelfleet plan`` reads its config with before it plans.
PROGRAM_PARTS = ("Pulumi.yaml", "infra", "policies")


def _part_digest(path: Path) -> str:
    digest = hashlib.sha256()
    if path.is_dir():
        _tree(digest, path)
    elif path.is_file():
        digest.update(path.read_bytes())
    else:
        digest.update(b"missing")
    return digest.hexdigest()


def same_program(checkout: Path, other: Path) -> bool:
    """Whether two checkouts hold byte for byte the same ``PROGRAM_PARTS``: they plan alike."""
    if checkout.resolve() == other.resolve():
        return True
    return all(_part_digest(checkout / part) == _part_digest(other / part) for part in PROGRAM_PARTS)


def program_digest(program_dir: Path) -> str:
    """A hash of the program's folder and, if elsewhere, the engine's package: the code that plans."""
    digest = hashlib.sha256()
    for folder in dict.fromkeys((program_dir.resolve(), ENGINE_PACKAGE)):
        digest.update(b"folder\0")
        _tree(digest, folder)
    return digest.hexdigest()


def plan_key(stack: str, stack_file_bytes: bytes, project_file: Path, program_dir: Path) -> str:
    """The content hash a plan of ``stack`` is kept under (see the module's docstring)."""
    digest = hashlib.sha256()
    parts = [
        stack.encode(),
        stack_file_bytes,
        project_file.read_bytes(),
        program_digest(program_dir).encode(),
        sys.version.encode(),
        "\n".join(_distributions()).encode(),
        eks_versions.today().isoformat().encode(),
        json.dumps(sorted((k, v) for k, v in os.environ.items() if k.startswith("PULUMI_"))).encode(),
    ]
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


@dataclass(frozen=True)
class PlanCache:
    folder: Path
    keep: int = KEEP

    @classmethod
    def default(cls) -> PlanCache | None:
        folder = default_folder()
        return None if folder is None else cls(folder)

    def _entry(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def load(self, key: str) -> Plan | None:
        """The plan kept under ``key``, or None."""
        entry = self._entry(key)
        try:
            plan = Plan.from_dict(json.loads(entry.read_text(encoding="utf-8")))
            os.utime(entry)  # recently used: pruned last
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return plan

    def save(self, key: str, plan: Plan) -> None:
        """Keep ``plan`` under ``key`` (written whole or not at all), then drop the oldest entries."""
        try:
            text = json.dumps(plan.to_dict(), separators=(",", ":"))
        except (TypeError, ValueError):  # not JSON: the plan could not be saved either
            return
        entry = self._entry(key)
        partial = entry.with_name(f"{entry.name}.{os.getpid()}.partial")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            partial.write_text(text, encoding="utf-8")
            os.replace(partial, entry)
            self._prune()
        except OSError:
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)

    def _prune(self) -> None:
        entries = sorted(self.folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in entries[self.keep :]:
            old.unlink(missing_ok=True)
