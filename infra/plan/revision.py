"""Plan another git revision of the project offline, for ``modelfleet diff --base <ref>``.

The revision is exported with ``git archive`` into a temporary folder and its
own program is planned by its own code in a subprocess (``PYTHONPATH`` puts that
copy first), so a base revision is rendered as it was, not by today's code.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from infra.plan.engine import PlanError
from infra.plan.model import Plan


class RevisionError(PlanError):
    """A revision cannot be exported, or a tree cannot be planned; the message says why."""


@contextmanager
def exported(root: Path, ref: str):
    """A temporary copy of ``ref``'s tracked files."""
    with tempfile.TemporaryDirectory(prefix="modelfleet-base-") as folder:
        archive = subprocess.run(
            ["git", "-C", str(root), "archive", "--format=tar", ref], check=False, capture_output=True
        )
        if archive.returncode != 0:
            message = archive.stderr.decode(errors="replace").strip() or f"git archive {ref} failed"
            raise RevisionError(f"cannot read git revision {ref!r}: {message}")
        subprocess.run(["tar", "-x", "-C", folder], input=archive.stdout, check=True)
        yield Path(folder)


@dataclass
class PlanJob:
    """One stack being planned in a subprocess, by the code of the tree it runs in."""

    stack: str
    out: Path
    what: str  # "the base revision", "the current stack file": for messages
    process: subprocess.Popen

    def kill(self) -> None:
        self.process.kill()
        self.process.communicate()

    def result(self, timeout_s: float = 600) -> Plan:
        try:
            _, stderr = self.process.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
            raise RevisionError(
                f"planning stack {self.stack} of {self.what} took over {timeout_s:.0f} s"
            ) from None
        if not self.out.exists():  # a policy violation (exit 3) still writes the plan
            tail = stderr.decode(errors="replace").strip().splitlines()[-5:]
            raise RevisionError(f"{self.what} could not plan stack {self.stack}:\n  " + "\n  ".join(tail))
        return Plan.load(self.out)


def stack_file_in(tree: Path, stack: str) -> Path | None:
    """``stack``'s file in ``tree``, or None when the stack does not exist there."""
    path = tree / "stacks" / f"Pulumi.{stack}.yaml"
    return path if path.exists() else None


def start_plan(tree: Path, stack: str, out: Path, what: str) -> PlanJob | None:
    """Begin planning ``stack`` as ``tree`` defines it; None when the stack does not exist there."""
    if stack_file_in(tree, stack) is None:
        return None
    env = {**os.environ, "PYTHONPATH": str(tree)}
    command = [
        sys.executable,
        "-m",
        "infra.cli",
        "plan",
        "--stack",
        stack,
        "--summary",
        "--out",
        str(out),
    ]
    process = subprocess.Popen(command, cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return PlanJob(stack, out, what, process)
