"""``modelfleet diff``: plan the base revision and the working tree, then diff each stack.

Both plans are judged by today's rules and today's price table, so the deltas
show what the change does to the stack, not how the rules or prices moved; each
side uses its own revision's policy config (a PR may raise a quota).

Every stack plans at once, a process per core (``infra.plan.parallel``). The base
revision is planned by its own code: when its program, engine and policy pack are
byte for byte this checkout's (``same_program``: a change to stack files only), that
code is already loaded here and its stack files join the same pool; otherwise each
base stack is planned in a subprocess of its own checkout (``infra.plan.revision``).
A base stack that fails to plan here is planned again that way, so that its error
reads as it always has.
"""

from __future__ import annotations

from pathlib import Path

from infra.plan.cache import ENGINE_PACKAGE, same_program
from infra.plan.cost import PriceTable, estimate
from infra.plan.diff import StackDiff, diff_stack
from infra.plan.engine import plan_stack
from infra.plan.model import Plan
from infra.plan.parallel import StackPlan, plan_stacks
from infra.plan.policy import PolicyConfigError, check_plan, config_path, load_settings
from infra.plan.revision import PlanJob, exported, stack_file_in, start_plan


def _judged(plan: Plan | None, config: Path, fallback: Path):
    if plan is None:
        return None, None
    try:
        settings = load_settings(config)
    except PolicyConfigError:  # the base's config may not fit today's schema
        settings = load_settings(fallback)
    return check_plan(plan, settings), estimate(plan, PriceTable.for_region(plan.region))


def _base_plannable_here(checkout: Path, stack: str) -> bool:
    """Whether ``modelfleet plan`` in the base would get as far as planning (its policy config reads)."""
    try:
        load_settings(config_path(checkout, stack))
    except PolicyConfigError:
        return False
    return True


def compare(root: Path, base_ref: str, stacks: list[str]) -> list[StackDiff]:
    with exported(root, base_ref) as checkout:
        files = {stack: stack_file_in(checkout, stack) for stack in stacks}
        here = same_program(checkout, root) and same_program(root, ENGINE_PACKAGE.parent)
        in_pool = [s for s in stacks if here and files[s] and _base_plannable_here(checkout, s)]

        def by_the_base(stack: str) -> PlanJob | None:
            """``stack`` planned by the base's own CLI in a subprocess, as every base stack once was."""
            return start_plan(checkout, stack, checkout / f"plan-{stack}.json", "the base revision")

        running = {stack: by_the_base(stack) for stack in stacks if stack not in in_pool}  # beside the pool
        jobs = [StackPlan(stack) for stack in stacks] + [StackPlan(s, files[s], saved=True) for s in in_pool]

        def when_failed(index: int) -> Plan | None:
            if index < len(stacks):  # a head stack: planned again here, raising the engine's own error
                return plan_stack(stacks[index], root=root)
            running[jobs[index].stack] = by_the_base(jobs[index].stack)  # its error, read in order below
            return None

        plans = plan_stacks(jobs, root=root, when_failed=when_failed)
        heads = dict(zip(stacks, plans[: len(stacks)], strict=True))
        bases = zip(jobs[len(stacks) :], plans[len(stacks) :], strict=True)
        based_here = {job.stack: plan for job, plan in bases if plan}  # each as the base's CLI saved it
        diffs = []
        for stack in stacks:
            if stack in based_here:
                before = based_here[stack]
            else:
                before = running[stack].result() if running[stack] else None
            head_config = config_path(root, stack)
            old_policy, old_cost = _judged(before, config_path(checkout, stack), head_config)
            new_policy, new_cost = _judged(heads[stack], head_config, head_config)
            diffs.append(
                diff_stack(stack, before, heads[stack], (old_policy, new_policy), (old_cost, new_cost))
            )
    return diffs
