"""``modelfleet diff``: plan the base revision and the working tree, then diff each stack.

Both plans are judged by today's rules and today's price table, so the deltas
show what the change does to the stack, not how the rules or prices moved; each
side uses its own revision's policy config (a PR may raise a quota).
"""

from __future__ import annotations

from pathlib import Path

from infra.plan.cost import PriceTable, estimate
from infra.plan.diff import StackDiff, diff_stack
from infra.plan.engine import plan_stack
from infra.plan.model import Plan
from infra.plan.policy import PolicyConfigError, check_plan, config_path, load_settings
from infra.plan.revision import exported, start_plan


def _judged(plan: Plan | None, config: Path, fallback: Path):
    if plan is None:
        return None, None
    try:
        settings = load_settings(config)
    except PolicyConfigError:  # the base's config may not fit today's schema
        settings = load_settings(fallback)
    return check_plan(plan, settings), estimate(plan, PriceTable.for_region(plan.region))


def compare(root: Path, base_ref: str, stacks: list[str]) -> list[StackDiff]:
    diffs = []
    with exported(root, base_ref) as checkout:
        running = {  # in parallel with the head plans
            stack: start_plan(checkout, stack, checkout / f"plan-{stack}.json", "the base revision")
            for stack in stacks
        }
        heads = {stack: plan_stack(stack, root=root) for stack in stacks}
        for stack in stacks:
            before = running[stack].result() if running[stack] else None
            head_config = config_path(root, stack)
            old_policy, old_cost = _judged(before, config_path(checkout, stack), head_config)
            new_policy, new_cost = _judged(heads[stack], head_config, head_config)
            diffs.append(
                diff_stack(stack, before, heads[stack], (old_policy, new_policy), (old_cost, new_cost))
            )
    return diffs
