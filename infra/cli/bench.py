"""``make bench-cli``: wall time of ``modelfleet`` commands as a person runs them, beside their goals.

Each command runs as a subprocess from the project root: once to warm up (the
operating system's file cache, Python's bytecode, modelfleet's own disk cache),
then ``--runs`` times; the table shows the best and the median run. Bytecode is
cached as in a developer's shell even where ``PYTHONDONTWRITEBYTECODE`` is set
(otherwise every run would compile the project's modules again), in a folder of the
bench's own (``PYTHONPYCACHEPREFIX``), so the tree stays as it was. The offline
plans run on copies of the prod stack with generated catalogs, made by
``make bench-plan``'s own generator (``infra.plan.bench``). The warm-up leaves each
in the plan cache, so those rows time a person running a plan again: the kept plan
read back, checked and priced. ``make bench-plan`` times the engine itself, with no
cache; the issue's plan goals are read there. A benchmark reports:
it never fails on a missed goal, and a command that exits non-zero is marked.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from infra.cli.args import positive_int
from infra.plan.goals import (
    DIFF_GOAL,
    HELP_GOAL,
    NEW_MODEL,
    NEW_MODEL_GOAL,
    PLAN_GOALS,
    PLAN_RATIO_GOAL,
    VALIDATE_GOAL,
)


@dataclass(frozen=True)
class Case:
    label: str  # the command as the table shows it
    argv: tuple[str, ...]  # after ``modelfleet``
    goal_seconds: float
    # Exit codes of a complete run: a plan that the policy pack refuses (3) was still made and checked.
    complete_exits: frozenset[int] = frozenset({0})


@dataclass(frozen=True)
class Timing:
    case: Case
    seconds: tuple[float, ...]  # the measured runs, the warm-up excluded
    exit_code: int  # the last run's

    @property
    def best(self) -> float:
        return min(self.seconds)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def cases(stacks: dict[int, Path], diff_base: str) -> list[Case]:
    """Every row of the table; ``stacks`` holds the generated prod stack file per model count."""
    plan = lambda n: Case(  # noqa: E731
        f"modelfleet plan --stack prod ({n} generated models, a kept plan)",
        ("plan", "--stack", "prod", "--stack-file", str(stacks[n])),
        PLAN_GOALS[n],
        frozenset({0, 3}),  # generated teams may exceed the prod policy's quotas
    )
    return [
        Case("modelfleet --help", ("--help",), HELP_GOAL),
        Case("modelfleet validate --stack prod", ("validate", "--stack", "prod"), VALIDATE_GOAL),
        Case("modelfleet rollout --help", ("rollout", "--help"), HELP_GOAL),
        *(plan(n) for n in PLAN_GOALS),
        Case(f"modelfleet diff --all --base {diff_base}", ("diff", "--all", "--base", diff_base), DIFF_GOAL),
        Case(
            "modelfleet new-model --dry-run (the README's example)", tuple(NEW_MODEL.split()), NEW_MODEL_GOAL
        ),
    ]


def _status(
    seconds: float, goal: float, exit_code: int = 0, complete: frozenset[int] = frozenset({0})
) -> str:
    if exit_code not in complete:
        return f"exit {exit_code}: stopped, not comparable"
    verdict = "meets goal" if seconds <= goal else "over goal"
    return verdict + (f" (exit {exit_code})" if exit_code else "")


def table_rows(timings: Sequence[Timing], ratio: tuple[Timing, Timing] | None = None) -> list[list[str]]:
    """The table's cells, header first: one row per command, then the plans' growth ratio.

    A command meets its goal when its median run does (the best run shows what the
    command costs on an idle machine). ``ratio`` is the 10- and the 100-model plan.
    """
    rows = [["command", "goal", "best", "median", "runs", "status"]]
    for timing in timings:
        rows.append([
            timing.case.label, f"< {timing.case.goal_seconds:g} s", f"{timing.best:.2f} s",
            f"{timing.median:.2f} s", str(len(timing.seconds)),
            _status(timing.median, timing.case.goal_seconds, timing.exit_code, timing.case.complete_exits),
        ])  # fmt: skip
    if ratio is not None:
        small, large = ratio
        best, median = large.best / small.best, large.median / small.median
        complete = all(t.exit_code in t.case.complete_exits for t in ratio)
        rows.append([
            "plan command ratio, 100 / 10 models (kept plans)", f"≤ {PLAN_RATIO_GOAL:g}x",
            f"{best:.1f}x", f"{median:.1f}x",
            "", _status(median, PLAN_RATIO_GOAL) if complete else "a plan stopped, not comparable",
        ])  # fmt: skip
    return rows


def render(rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table, its columns padded to line up in a terminal too."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    line = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"  # noqa: E731
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(rows[0]), rule, *(line(row) for row in rows[1:])])


def modelfleet() -> list[str]:
    """The installed ``modelfleet`` command beside this Python, else ``python -m infra.cli``."""
    script = Path(sys.executable).parent / "modelfleet"
    return [str(script)] if script.exists() else [sys.executable, "-m", "infra.cli"]


def timed(command: Sequence[str], cwd: Path, env: dict[str, str]) -> tuple[float, int]:
    started = time.perf_counter()
    done = subprocess.run(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
    )
    return time.perf_counter() - started, done.returncode


def measure(case: Case, runs: int, cwd: Path, env: dict[str, str]) -> Timing:
    command = [*modelfleet(), *case.argv]
    timed(command, cwd, env)  # warm-up
    results = [timed(command, cwd, env) for _ in range(runs)]
    return Timing(case, tuple(seconds for seconds, _ in results), results[-1][1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=positive_int, default=5, help="measured runs per command (default 5)")
    parser.add_argument("--only", help="only the commands whose label contains this text")
    parser.add_argument("--diff-base", default="HEAD", help="the git revision diff compares with")
    args = parser.parse_args(argv)

    from ruamel.yaml import YAML  # noqa: PLC0415 - the generator's imports stay out of the --help path

    from infra.plan.bench import stack_with  # noqa: PLC0415
    from infra.stackfiles.read import find_root  # noqa: PLC0415

    root = find_root(Path.cwd())
    template = YAML(typ="safe").load((root / "stacks/Pulumi.prod.yaml").read_text())
    with tempfile.TemporaryDirectory(prefix="modelfleet-bench-cli-") as folder:
        stacks = {n: stack_with(n, template, Path(folder)) for n in PLAN_GOALS}
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(Path(folder) / "pycache")
        chosen = [c for c in cases(stacks, args.diff_base) if not args.only or args.only in c.label]
        timings = []
        for case in chosen:
            timings.append(measure(case, args.runs, root, env))
            print(f"  {case.label}: {timings[-1].median:.2f} s", file=sys.stderr, flush=True)
    plans = [t for t in timings if t.case.argv[0] == "plan"]
    ratio = (plans[0], plans[1]) if len(plans) == 2 else None
    print(f"modelfleet commands on {root}, warm, {args.runs} runs each after a warm-up\n")
    print(render(table_rows(timings, ratio)))


if __name__ == "__main__":
    main()
