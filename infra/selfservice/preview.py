"""Judge a stack file before it is written: plan it offline, run the pack, price it, diff it.

The edited text is planned from a temporary copy, so nothing in ``stacks/`` is
touched until every check has passed. The current file is planned at the same
time in a subprocess (the engine runs one plan per process), which halves the
wait; a new environment has nothing to compare against.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from infra.plan.cost import CostReport, PriceTable, estimate
from infra.plan.diff import StackDiff, diff_stack
from infra.plan.engine import plan_stack
from infra.plan.policy import PolicyReport, PolicySettings, check_plan
from infra.plan.revision import start_plan


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
        current_out = Path(folder) / "current.json"
        running = (
            start_plan(root, stack, current_out, "the current stack file") if compare_with_current else None
        )
        try:
            after = plan_stack(stack, root=root, stack_file=edited)
        except BaseException:
            if running:
                running.kill()
            raise
        before = running.result() if running else None
    report = check_plan(after, policy)
    prices = PriceTable.for_region(after.region)
    costs = (estimate(before, prices) if before else None, estimate(after, prices))
    reports = (check_plan(before, policy) if before else None, report)
    return Preview(diff_stack(stack, before, after, reports, costs), report, costs[1])
