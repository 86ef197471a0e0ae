"""Several stacks planned at once, one process per core, with this process's code.

The engine runs one program at a time per process: Pulumi's runtime is process-global,
and a plan is Python work that one interpreter's GIL serializes anyway. So independent
plans (every stack of ``modelfleet diff --all``, the current and the edited stack file
of ``new-model``) go to a pool of worker processes forked from this one: a worker
starts with every module this process has imported, instead of paying the imports
again as a new interpreter would, and runs the same code on the same files.

Plans come back in the order they were asked for. If any plan fails in a worker,
it is planned again here, so that the error raised is the one the engine raises
in-process (its own type, message and traceback); failures are taken in order, as
a loop over the stacks would meet them. Where ``fork`` is not the platform's way to
start processes (anywhere but Linux), or there is one plan or one core, plans run here
one after the other.
"""

from __future__ import annotations

import copy
import multiprocessing
import os
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from infra.plan import engine
from infra.plan.engine import DEFAULT_CACHE, plan_stack
from infra.plan.model import Plan
from infra.stackfiles.read import read_project


@dataclass(frozen=True)
class StackPlan:
    """One plan to make: a stack, from its own file or from ``stack_file``.

    ``saved``: the plan as ``modelfleet plan --out`` writes it and ``Plan.load`` reads it
    back (what a plan made by another checkout's CLI looks like); one that cannot be
    written fails.
    """

    stack: str
    stack_file: Path | None = None
    saved: bool = False


def cores() -> int:
    """The cores this process may run on."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else os.cpu_count() or 1


def _forkable() -> bool:
    return sys.platform == "linux" and "fork" in multiprocessing.get_all_start_methods()


def _plan(root: Path, job: StackPlan, cache) -> Plan:
    plan = plan_stack(job.stack, root=root, stack_file=job.stack_file, cache=cache)
    return _as_saved(plan) if job.saved else plan


def _as_saved(plan: Plan) -> Plan:
    return Plan.from_json(plan.to_json())


def plan_stacks(
    jobs: Sequence[StackPlan],
    *,
    root: Path,
    cache=DEFAULT_CACHE,
    workers: int | None = None,
    when_failed: Callable[[int], Plan | None] | None = None,
) -> list[Plan | None]:
    """A plan of each job, in order; as ``plan_stack`` would make them one after the other.

    Jobs with the same stack and the same stack file bytes are planned once: the engine
    gives equal inputs the same plan, so the others get a copy. A job that fails is
    handed to ``when_failed`` (its index), which gives its plan, None, or raises; by
    default it is planned again here.
    """
    jobs = list(jobs)
    again = when_failed or (lambda index: _plan(root, jobs[index], cache))
    twin = _first_with_the_same_inputs(root, jobs)
    unique = [index for index in range(len(jobs)) if twin[index] == index]
    workers = min(workers or cores(), len(unique))
    pool = None
    if workers > 1 and _forkable():
        pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("fork"),
            initializer=engine.after_fork,
        )
    try:
        futures = {index: pool.submit(_plan, root, jobs[index], cache) for index in unique} if pool else {}

        def planned(index: int) -> Plan | None:
            try:
                return futures[index].result() if pool else _plan(root, jobs[index], cache)
            except Exception:  # a failed plan or a worker gone: ``again`` says what to do
                return again(index)

        plans: list[Plan | None] = []
        for index in range(len(jobs)):
            if twin[index] == index:
                plans.append(planned(index))
            else:
                plans.append(_copy(plans[twin[index]], jobs[index], index, again))
        return plans
    finally:
        if pool:
            pool.shutdown(wait=True, cancel_futures=True)


def _copy(plan: Plan | None, job: StackPlan, index: int, again: Callable[[int], Plan | None]) -> Plan | None:
    """A plan of its own for a job whose twin was planned (or ``again``'s answer if it failed)."""
    if plan is None:
        return again(index)
    if not job.saved:
        return copy.deepcopy(plan)
    try:
        return _as_saved(plan)
    except (TypeError, ValueError):
        return again(index)


def _first_with_the_same_inputs(root: Path, jobs: list[StackPlan]) -> list[int]:
    """For each job, the index of the first job with the same stack and stack file bytes."""
    project = read_project(root)
    first: dict[tuple[str, bytes], int] = {}
    twins = []
    for index, job in enumerate(jobs):
        try:
            inputs = (job.stack, (job.stack_file or project.stack_file(job.stack)).read_bytes())
        except OSError:  # planning says what is wrong with it
            twins.append(index)
            continue
        twins.append(first.setdefault(inputs, index))
    return twins
