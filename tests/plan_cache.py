"""Plans of the shipped stacks made once per test run and shared by every pytest-xdist worker.

The first worker to claim a stack plans it and saves the Plan as JSON; the others
wait for it under a file lock and load the file. Each file is named by a content
hash of everything that decides the plan, so a plan made from other sources is
never loaded. Workers claim stacks without waiting first, so two workers plan two
different stacks at the same time rather than one after the other.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from infra.plan import Plan

# What the offline engine reads to plan a shipped stack: the program and its data, the stack
# files, the project file, the policy configs, and the pinned SDK and provider versions.
PLAN_INPUTS = (
    "infra/**/*.py",
    "infra/**/*.json",
    "stacks/*.yaml",
    "Pulumi.yaml",
    "policies/config/*.json",
    "requirements.txt",
)


def inputs_digest(root: Path, patterns: Iterable[str] = PLAN_INPUTS) -> str:
    """A hash of the name and content of every file under ``root`` that matches ``patterns``."""
    digest = hashlib.sha256()
    files = {path for pattern in patterns for path in root.glob(pattern) if path.is_file()}
    for path in sorted(files):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


@contextmanager
def _locked(path: Path, *, wait: bool) -> Iterator[bool]:
    """An exclusive lock on ``path`` (made if missing): yields whether it was taken."""
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _save(plan: Plan, path: Path) -> None:
    """Written under another name and renamed: a reader sees the whole file or none."""
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    plan.save(partial)
    os.replace(partial, path)


def shared_plans(
    stacks: Iterable[str], cache: Path, digest: str, plan: Callable[[str], Plan]
) -> dict[str, Plan]:
    """Each stack's plan from ``cache``, made with ``plan`` by whichever caller claims it first.

    Every caller returns plans loaded from the saved files, so what a test sees never
    depends on which worker planned.
    """
    cache.mkdir(parents=True, exist_ok=True)
    stacks = list(stacks)
    saved = {stack: cache / f"{stack}-{digest[:20]}.json" for stack in stacks}

    def make(stack: str) -> None:
        if not saved[stack].exists():
            _save(plan(stack), saved[stack])

    waiting = []
    for stack in stacks:  # plan what no other worker is planning now
        with _locked(cache / f"{stack}.lock", wait=False) as taken:
            if taken:
                make(stack)
            else:
                waiting.append(stack)
    for stack in waiting:  # then wait for the others (and plan any a failed worker left undone)
        with _locked(cache / f"{stack}.lock", wait=True):
            make(stack)
    return {stack: Plan.load(saved[stack]) for stack in stacks}
