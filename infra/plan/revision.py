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
from pathlib import Path

from infra.plan.model import Plan


class RevisionError(Exception):
    """The revision cannot be exported or planned; the message says why."""


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


def start_plan(checkout: Path, stack: str) -> subprocess.Popen | None:
    """Begin planning ``stack`` as the checkout defines it; None when the stack did not exist there."""
    if not (checkout / "stacks" / f"Pulumi.{stack}.yaml").exists():
        return None
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    command = [sys.executable, "-m", "infra.cli", "plan", "--stack", stack, "--summary"]
    command += ["--out", str(checkout / f"plan-{stack}.json")]
    return subprocess.Popen(command, cwd=checkout, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def finish_plan(
    checkout: Path, stack: str, process: subprocess.Popen | None, timeout_s: float = 600
) -> Plan | None:
    if process is None:
        return None
    try:
        _, stderr = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        raise RevisionError(
            f"planning stack {stack} of the base revision took over {timeout_s:.0f} s"
        ) from None
    path = checkout / f"plan-{stack}.json"
    if not path.exists():  # a policy violation (exit 3) still writes the plan
        tail = stderr.decode(errors="replace").strip().splitlines()[-5:]
        raise RevisionError(f"the base revision could not plan stack {stack}:\n  " + "\n  ".join(tail))
    return Plan.load(path)
