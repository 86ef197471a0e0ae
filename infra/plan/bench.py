"""``make bench-plan``: the offline plan's times against their goals, in this process, with no plan cache.

Rows (docs/performance.md, "The offline plan", says what each goal is for):

- ``plan, prod + N models``: ``plan_stack`` on copies of ``stacks/Pulumi.prod.yaml``
  whose catalog is N generated models (half with a live canary, a mix of framework
  and digest images, CPU and GPU instances, and with ``eks_every`` one in that many
  served on the prod stack's GPU pool) beside the models on its shared endpoint, for
  each N of ``--models`` (10 and 100);
- ``ratio``: the largest N's time over the smallest's, beside the ratio of their
  resources (a plan's cost is per resource: a ratio at or under the resources' is linear),
  and the ratio of their wall time per resource (at or under 1: linear);
- ``diff --all``: ``modelfleet diff --all --base HEAD`` on a throwaway git copy of
  this checkout in which each shipped stack gains a model: every stack planned on
  both sides;
- ``new-model --dry-run``: the README's ``new-model`` example (validate, quotas, the
  current and the edited dev stack planned, pack and cost on both, the diff).

Each plan row is the median of ``--runs`` runs (3), every run planning each size once,
smallest first; the ratio row is the median of the runs' own ratios. Everything is
timed after a warm-up that plans each kind of input once, so imports are not counted
(the command-line benchmark times the commands as new processes). The plan cache is
off for the whole run (``MODELFLEET_PLAN_CACHE=off``), so these are the times of
planning, not of reading plans back. Each row prints its wall time, the CPU time of
this process and its plan workers, a plan's wall time per resource (``ms / res``) and
its goal (``infra/plan/goals.py``); the run never fails on a
missed goal (benchmarks are not tests), it says so.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table
from ruamel.yaml import YAML

from infra.cli.args import positive_int
from infra.plan.cache import ENV as CACHE_ENV
from infra.plan.engine import plan_stack
from infra.plan.goals import DIFF_GOAL, NEW_MODEL, NEW_MODEL_GOAL, PLAN_GOALS, PLAN_RATIO_GOAL
from infra.stackfiles.read import find_root, read_project

DIGEST = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/bench-{i}@sha256:" + "0" * 64
EKS_POOL = "g5"  # the GPU pool of stacks/Pulumi.prod.yaml

NEW_MODEL_ARGV = NEW_MODEL.split()


def generated_model(index: int, *, eks: bool = False) -> dict:
    """Model ``index`` of a generated catalog: SageMaker by default, or on the prod GPU pool."""
    name = f"bench-model-{index:03d}"
    artifact = f"s3://bench-artifacts/{name}/v{{}}/model.tar.gz"
    if eks:
        return {
            "name": name,
            "team": f"team-{index % 7}",
            "backend": "eks",
            "image": DIGEST.format(i=index),
            "variants": {"stable": {"model_data": artifact.format(1), "instance_count": 2}},
            "autoscaling": {"min_instances": 2, "max_instances": 4},
            "slo": {"p99_latency_ms": 300, "error_rate_percent": 1},
            "eks": {"pool": EKS_POOL, "gpus": 1, "cpu": 4, "memory_gib": 16},
        }
    entry: dict = {
        "name": name,
        "team": f"team-{index % 7}",
        "backend": "sagemaker",
        "instance_type": "ml.g5.xlarge" if index % 4 == 0 else "ml.c5.xlarge",
        "variants": {"stable": {"model_data": artifact.format(1), "instance_count": 2, "weight": 100}},
        "autoscaling": {
            "min_instances": 2,
            "max_instances": 8,
            "target_invocations_per_instance_per_minute": 600,
        },
        "slo": {"p99_latency_ms": 150, "error_rate_percent": 1},
    }
    if index % 2:
        entry["framework"] = {"name": "xgboost", "version": "1.7-1"}
    else:
        entry["image"] = DIGEST.format(i=index)
    if index % 2 == 0:
        entry["variants"]["stable"]["weight"] = 90
        entry["variants"]["canary"] = {"model_data": artifact.format(2), "instance_count": 2, "weight": 10}
    return entry


def stack_with(models: int, template: dict, folder: Path, *, eks_every: int = 0) -> Path:
    """The prod stack file with ``models`` generated models in its catalog."""
    data = copy.deepcopy(template)
    # The models on the template's shared endpoints stay: an endpoint with none is invalid.
    placed = [m for m in data["config"]["modelfleet:models"] if "endpoint" in m]
    data["config"]["modelfleet:models"] = placed + [
        generated_model(i, eks=bool(eks_every) and i % eks_every == eks_every - 1) for i in range(models)
    ]
    path = folder / f"Pulumi.bench-{models}.yaml"
    with path.open("w") as handle:
        YAML().dump(data, handle)
    return path


@dataclass(frozen=True)
class Timing:
    wall_s: float
    cpu_s: float  # this process and every child it waited for (plan workers)


def _cpu_s() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(work: Callable[[], object]) -> Timing:
    cpu, wall = _cpu_s(), time.perf_counter()
    work()
    return Timing(time.perf_counter() - wall, _cpu_s() - cpu)


@contextlib.contextmanager
def _in(folder: Path) -> Iterator[None]:
    """``folder`` as the working directory, and the command's output swallowed."""
    before = Path.cwd()
    os.chdir(folder)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            yield
    finally:
        os.chdir(before)


def _git(folder: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True)


def pr_copy(root: Path, folder: Path) -> Path:
    """A git repository of this checkout's files, committed, with a model added to each stack file."""
    listed = subprocess.run(
        ["git", "-C", str(root), "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        check=True,
        capture_output=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = root / name
        if source.is_file():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, folder / name)
    _git(folder, "init", "-q")
    _git(folder, "add", "-A")
    _git(folder, "-c", "user.name=bench", "-c", "user.email=bench@example.com", "commit", "-q", "-m", "base")
    project = read_project(folder)
    for index, stack in enumerate(project.stacks()):
        path = project.stack_file(stack)
        data = YAML(typ="safe").load(path.read_text())
        data["config"].setdefault("modelfleet:models", []).append(generated_model(900 + 2 * index + 1))
        with path.open("w") as handle:
            YAML().dump(data, handle)
    return folder


def _command(modelfleet: Callable[[list[str]], int], argv: list[str]) -> None:
    status = modelfleet(argv)
    if status != 0:
        raise SystemExit(f"bench: `modelfleet {' '.join(argv)}` exited {status}")


class _Rows:
    def __init__(self) -> None:
        self.table = Table(title="Offline plan: times after a warm-up, no plan cache")
        for column in ("row", "resources", "wall s", "cpu s", "ms / res", "goal", ""):
            self.table.add_column(column, justify="left" if column == "row" else "right")

    def add(
        self,
        name: str,
        resources: str,
        wall: float,
        cpu: float,
        goal: float | None,
        unit: str = " s",
        per_resource: str = "",
    ) -> None:
        shown = (lambda v: f"x{v:.1f}") if unit == "x" else (lambda v: f"{v:.2f}")
        if goal is None:
            self.table.add_row(name, resources, shown(wall), shown(cpu), per_resource, "", "")
            return
        met = "[green]met[/]" if wall <= goal else "[red]missed[/]"
        goal_text = f"<= {goal:g}" if unit == "x" else f"< {goal:g} s"
        self.table.add_row(name, resources, shown(wall), shown(cpu), per_resource, goal_text, met)

    def add_plan(self, models: int, resources: int, runs: list[Timing]) -> None:
        """A plan's row, medians of its runs: resources, times, wall time per resource, and its goal."""
        wall, cpu = statistics.median(t.wall_s for t in runs), statistics.median(t.cpu_s for t in runs)
        self.add(
            f"plan, prod + {models} models",
            str(resources),
            wall,
            cpu,
            PLAN_GOALS.get(models),
            per_resource=f"{wall * 1000 / resources:.2f}",
        )

    def add_ratio(self, plans: dict[int, tuple[list[Timing], int]]) -> None:
        """The largest plan over the smallest: resources, times, time per resource (1 or under: linear).

        The two are planned one after the other in each run, and each figure is the median of
        the runs' own ratios, so that the VM's changes of speed between runs cancel out.
        """
        (small, (t_small, r_small)), (large, (t_large, r_large)) = min(plans.items()), max(plans.items())
        pairs = list(zip(t_small, t_large, strict=True))
        wall = statistics.median(b.wall_s / a.wall_s for a, b in pairs)
        self.add(
            f"ratio, {large} / {small} models",
            f"x{r_large / r_small:.1f}",
            wall,
            statistics.median(b.cpu_s / a.cpu_s for a, b in pairs),
            PLAN_RATIO_GOAL if (small, large) == (min(PLAN_GOALS), max(PLAN_GOALS)) else None,
            unit="x",
            per_resource=f"x{wall * r_small / r_large:.2f}",
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, nargs="+", default=sorted(PLAN_GOALS))
    parser.add_argument(
        "--runs", type=positive_int, default=3, help="plans of each size; rows show medians (default 3)"
    )
    args = parser.parse_args(argv)
    os.environ[CACHE_ENV] = "off"  # here, in plan workers and in every subprocess
    from infra.cli.commands import main as modelfleet  # noqa: PLC0415 - the whole CLI, for its two rows

    root = find_root(Path.cwd())
    template = YAML(typ="safe").load((root / "stacks/Pulumi.prod.yaml").read_text())
    rows = _Rows()
    with tempfile.TemporaryDirectory(prefix="modelfleet-bench-") as folder:
        work = Path(folder)
        pr = pr_copy(root, work / "pr")
        diff_all = ["diff", "--all", "--base", "HEAD", "--format", "text", "--out", str(work / "diff.txt")]
        # Warm-up: every kind of input planned once, each command run once.
        for stack in read_project(root).stacks():
            plan_stack(stack, root=root, cache=None)
        plan_stack("prod", root=root, stack_file=stack_with(4, template, work), cache=None)
        with _in(pr):
            _command(modelfleet, diff_all)
        with _in(root):
            _command(modelfleet, NEW_MODEL_ARGV)

        sizes = sorted(set(args.models))
        paths = {count: stack_with(count, template, work) for count in sizes}
        runs: dict[int, list[Timing]] = {count: [] for count in sizes}
        resources: dict[int, int] = {}
        for _ in range(args.runs):  # each run plans every size once, smallest first
            for count, path in paths.items():
                made: list = []
                runs[count].append(
                    timed(
                        lambda p=path, m=made: m.append(
                            plan_stack("prod", root=root, stack_file=p, cache=None)
                        )
                    )
                )
                resources[count] = len(made[0].resources)
        for count in sizes:
            rows.add_plan(count, resources[count], runs[count])
        if len(sizes) > 1:
            rows.add_ratio({count: (runs[count], resources[count]) for count in sizes})
        with _in(pr):
            diff = timed(lambda: _command(modelfleet, diff_all))
        rows.add("diff --all, a model added to each stack", "", diff.wall_s, diff.cpu_s, DIFF_GOAL)
        with _in(root):
            new_model = timed(lambda: _command(modelfleet, NEW_MODEL_ARGV))
        rows.add("new-model --dry-run (dev)", "", new_model.wall_s, new_model.cpu_s, NEW_MODEL_GOAL)
    console = Console(width=None if sys.stdout.isatty() else 110)  # a log keeps each row on one line
    console.print(rows.table)
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    console.print(
        f"[dim]{os.cpu_count()} cores; load average {load} (other work on the machine slows every row)[/]"
    )


if __name__ == "__main__":
    main()
