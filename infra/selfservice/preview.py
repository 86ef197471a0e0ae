"""Judge a stack file before it is written: plan it offline, run the pack, price it, diff it.

The edited text is planned from a temporary copy, so nothing in ``stacks/`` is
touched until every check has passed. The current file is planned at the same
time in another process (the engine runs one plan per process), which halves the
wait; a new environment has nothing to compare against.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from infra.plan.cache import ENGINE_PACKAGE, same_program
from infra.plan.cost import CostReport, PriceTable, estimate
from infra.plan.diff import StackDiff, diff_stack
from infra.plan.engine import plan_stack
from infra.plan.model import Plan
from infra.plan.parallel import StackPlan, plan_stacks
from infra.plan.policy import PolicyReport, PolicySettings, check_plan
from infra.plan.revision import stack_file_in, start_plan


@dataclass(frozen=True)
class Preview:
    diff: StackDiff
    report: PolicyReport  # the pack over the stack as it would be
    cost: CostReport  # the stack as it would be, priced (unknown in a region without a table)

    @property
    def refused(self) -> bool:
        return bool(self.report.mandatory)


def preview(
    root: Path, stack: str, text: str, policy: PolicySettings, *, compare_with_current: bool
) -> Preview:
    """Plan ``text`` as stack ``stack``; diff it against the current file when there is one."""
    with tempfile.TemporaryDirectory(prefix="modelfleet-new-") as folder:
        edited = Path(folder) / f"Pulumi.{stack}.yaml"
        edited.write_text(text, encoding="utf-8")
        after, before = _plans(root, stack, edited, Path(folder) / "current.json", compare_with_current)
    report = check_plan(after, policy)
    prices = PriceTable.for_region(after.region)
    costs = (estimate(before, prices) if before else None, estimate(after, prices))
    reports = (check_plan(before, policy) if before else None, report)
    return Preview(diff_stack(stack, before, after, reports, costs), report, costs[1])


def _plans(
    root: Path, stack: str, edited: Path, current_out: Path, compare: bool
) -> tuple[Plan, Plan | None]:
    """The edited file's plan and the current file's, side by side.

    When this process runs the checkout's own code, both plan here at once
    (``plan_stacks``); a current file that fails to plan is then planned again in a
    subprocess, so its error reads as before. Otherwise the current file is planned in
    a subprocess by the checkout's code while the edited one plans here.
    """
    current = stack_file_in(root, stack) if compare else None
    if current is not None and same_program(root, ENGINE_PACKAGE.parent):
        jobs = [StackPlan(stack, edited), StackPlan(stack)]

        def when_failed(index: int) -> Plan | None:
            if index == 0:
                return plan_stack(stack, root=root, stack_file=edited)  # raises the engine's own error
            job = start_plan(root, stack, current_out, "the current stack file")
            return job.result() if job else None

        after, before = plan_stacks(jobs, root=root, when_failed=when_failed)
        return after, before
    running = start_plan(root, stack, current_out, "the current stack file") if compare else None
    try:
        after = plan_stack(stack, root=root, stack_file=edited)
    except BaseException:
        if running:
            running.kill()
        raise
    return after, running.result() if running else None
