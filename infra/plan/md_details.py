"""Layer 3 of a PR comment: resource changes grouped by component, as detailed as room allows (pure).

Three passes of rising detail: every component group is counted (while room
lasts), then listed one line per resource, then listed with property values; a
group still only counted then lists what fits of it. Each pass renders each group
once, so the work stays linear in the number of resources.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from infra.plan.diff import ACTIONS, ResourceChange, StackDiff
from infra.plan.mdtext import code, fit, size, value
from infra.plan.owners import PLATFORM


def _full(change: ResourceChange, width: int | None) -> list[str]:
    head = f"- {change.action} {code(change.type)} **{change.name}**"
    lines = [head]
    for p in change.properties:
        forcing = " *(forces replacement)*" if p.replaces else ""
        lines.append(f"  - {code(p.path)}: {value(p.old, width)} → {value(p.new, width)}{forcing}")
    return lines


def _compact(change: ResourceChange) -> list[str]:
    extra = f" ({len(change.properties)} properties)" if change.properties else ""
    return [f"- {change.action} {code(change.type)} **{change.name}**{extra}"]


def short_type(token: str) -> str:
    """``aws:cloudwatch/metricAlarm:MetricAlarm`` -> ``cloudwatch/metricAlarm``: enough to count by."""
    _, _, rest = token.partition(":")
    module, _, name = rest.rpartition(":")
    tail = module.rsplit("/", 1)[-1]
    return module if name and tail.lower() == name.lower() else rest or token


def _counted(changes: list[ResourceChange]) -> list[str]:
    tally = Counter((c.action, short_type(c.type)) for c in changes)
    lines = []
    for action in ACTIONS:
        kinds = [f"{n} {code(t)}" for (a, t), n in sorted(tally.items()) if a == action]
        lines += [f"- to {action}: " + ", ".join(kinds)] if kinds else []
    return lines


def _group_text(component: str, changes: list[ResourceChange], render: Callable) -> str:
    models = {c.model for c in changes}
    model = next(iter(models))
    owner = f" (model {code(model)})" if len(models) == 1 and model not in (component, PLATFORM) else ""
    return "\n".join([f"**{component}**{owner}: {len(changes)} changes", "", *render(changes), ""]) + "\n"


def details(diffs: list[StackDiff], budget: int, width: int | None) -> tuple[str, bool]:
    """Every stack's resource changes by component within ``budget``: (text, complete?)."""
    groups = []  # (stack, component, changes)
    for diff in diffs:
        by_component: dict[str, list[ResourceChange]] = {}
        for change in diff.changes:
            by_component.setdefault(change.component, []).append(change)
        groups += [(diff.stack, component, changes) for component, changes in by_component.items()]
    levels = [
        _counted,
        lambda cs: [line for c in cs for line in _compact(c)],
        lambda cs: [line for c in cs for line in _full(c, width)],
    ]
    chosen: list[str] = [""] * len(groups)
    detail = [-1] * len(groups)  # the level each group got; -1: left out
    # Each stack's fold, with room for its "left out" line; the 2 bytes of "{}" in each
    # pay for the newline that joins the stacks' folds.
    spent = sum(size(_wrapper(d, len(groups))) for d in diffs)
    for level, render in enumerate(levels):
        for i, (_, component, changes) in enumerate(groups):
            text = _group_text(component, changes, render)
            if spent + size(text) - size(chosen[i]) <= budget:
                spent += size(text) - size(chosen[i])
                chosen[i], detail[i] = text, level
    for i, (_, component, changes) in enumerate(groups):  # a counted group lists what still fits
        if detail[i] == 0:
            text = _partial(component, changes, budget - spent + size(chosen[i]))
            if text and spent + size(text) - size(chosen[i]) <= budget:
                spent += size(text) - size(chosen[i])
                chosen[i] = text
    complete = all(level == len(levels) - 1 for level in detail)
    if spent > budget:
        return "", False
    out = []
    for diff in diffs:
        texts = [t for (stack, _, _), t in zip(groups, chosen, strict=True) if stack == diff.stack]
        omitted = sum(1 for t in texts if not t)
        if texts:
            head, tail = _wrapper(diff, omitted).split("{}")
            out.append(head + "".join(t for t in texts if t) + tail)
    return "\n".join(out), complete


def _partial(component: str, changes: list[ResourceChange], room: int) -> str | None:
    """A group's counts, then one line per resource for as many as ``room`` holds."""
    counted = _group_text(component, changes, _counted)
    lines = [line for change in changes for line in _compact(change)]
    listed, dropped = fit(lines, room - size(counted), f"- …and {len(changes):,} more: see the whole diff")
    if not listed:
        return None
    tail = f"- …and {dropped:,} more: see the whole diff"
    return _group_text(component, changes, lambda cs: [*_counted(cs), *listed, tail])


def _wrapper(diff: StackDiff, omitted: int) -> str:
    """The fold around one stack's details; ``{}`` marks where the groups go."""
    more = f"_{omitted} more component group(s) left out: see the whole diff._\n\n" if omitted else ""
    return (
        f"<details>\n<summary><b>{diff.stack}</b>: resource changes by component "
        f"({len(diff.changes)})</summary>\n\n{{}}{more}</details>\n"
    )
