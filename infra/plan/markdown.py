"""A PR comment from stack diffs that degrades by detail, never by the facts a reviewer must see.

GitHub refuses a comment over 65,536 characters, and a step summary over 1 MiB.
The comment is built in layers, each always complete before the next starts:

1. the per-stack summary, and what the cost estimate leaves out;
2. for each stack, every new and resolved policy violation, every replacement and
   removal (one by one: they are the dangerous changes), and every model added,
   changed or removed, with its resources by action and its cost. When these do not
   fit in full they are shown compact, then as lists of names, never dropped;
3. resource-level detail, grouped by component: each group in full (property paths
   and values), compact (one line per resource) or counted, as the budget allows.

When any detail is dropped, the comment says so at the top and links to the job
summary and the JSON artifact that hold the whole diff. Size is counted in UTF-8
bytes, which is never less than what GitHub counts. Every layer is rendered once
per level tried, so the work is linear in the number of resources.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from itertools import groupby

from infra.plan import costtext
from infra.plan.diff import ACTIONS, CostTotals, ModelChange, ResourceChange, StackDiff
from infra.plan.owners import PLATFORM
from infra.plan.policy import Violation

GITHUB_COMMENT_LIMIT = 65_536  # characters in an issue or PR comment
STEP_SUMMARY_LIMIT = 1_000_000  # GitHub refuses a step summary over 1024k; room for what else the step writes
VALUE_WIDTH = 60  # property values are cut to this in a comment; never in a summary
MARKER = "<!-- modelfleet-plan-diff -->"  # lets the workflow update its own comment
GROUP_VIOLATIONS_OVER = 5  # more new violations than this are grouped by policy
TITLES = {"replace": "Replaced", "remove": "Removed", "add": "Added", "update": "Updated in place"}


@dataclass(frozen=True)
class Links:
    """Where the whole diff is when a comment leaves detail out."""

    summary: str | None = None  # the workflow run page, whose job summary holds the full markdown
    artifact: str | None = None  # the uploaded artifact with the JSON diff

    def markdown(self) -> str:
        parts = [
            f"[{text}]({url})"
            for text, url in (("job summary", self.summary), ("JSON artifact", self.artifact))
            if url
        ]
        return " · ".join(parts) or "`modelfleet diff --format text` (or `--format json`)"


def size(text: str) -> int:
    return len(text.encode("utf-8"))


def _code(text: str) -> str:
    return "`" + text.replace("`", "'") + "`"


def _value(value, width: int | None) -> str:
    text = "(none)" if value is None else json.dumps(value, sort_keys=True, default=str)
    if width is not None and len(text) > width:
        text = text[: width - 1] + "…"
    return _code(text)


def _counts(diff: StackDiff) -> str:
    parts = [f"{diff.count(a)} to {a}" for a in ACTIONS if diff.count(a)]
    return ", ".join(parts) or "no resource changes"


def _stack_cost(totals: CostTotals) -> str:
    return costtext.total(totals.low, totals.high, totals.unpriced)


def _stack_delta(diff: StackDiff) -> str:
    return costtext.delta(diff.cost_before.high, diff.cost_after.high, diff.delta_unpriced)


# Layer 1 ----------------------------------------------------------------------


def summary(diffs: list[StackDiff], base: str, head: str) -> str:
    lines = [
        MARKER,
        f"## modelfleet offline plan diff: `{base}` → `{head}`",
        "",
        "| stack | add | update | replace | remove | new violations | resolved "
        "| monthly cost before → after (min-max) | Δ max |",
        "|---|--:|--:|--:|--:|---|--:|---|---|",
    ]
    for d in diffs:
        mandatory = sum(v.level == "mandatory" for v in d.new_violations)
        advisory = len(d.new_violations) - mandatory
        violations = f"{'❌ ' if mandatory else ''}{mandatory} mandatory, {advisory} advisory"
        counts = " | ".join(str(d.count(a)) for a in ACTIONS)
        lines.append(
            f"| {d.stack} | {counts} | {violations} | {len(d.resolved_violations)} "
            f"| {_stack_cost(d.cost_before)} → {_stack_cost(d.cost_after)} | {_stack_delta(d)} |"
        )
    lines += _unpriced_notes(diffs)
    replaced = sum(d.count("replace") for d in diffs)
    if replaced:
        lines += ["", f"> ⚠️ **{replaced} resource(s) will be replaced** (a create-only property changed)."]
    return "\n".join(lines) + "\n"


def _unpriced_notes(diffs: list[StackDiff]) -> list[str]:
    lines = []
    for d in diffs:
        for what, unpriced in (
            ("after the change", d.cost_after.unpriced),
            ("the change itself", d.delta_unpriced),
        ):
            if unpriced:
                lines.append(f"- **{d.stack}**, {what}: {costtext.incomplete(unpriced)}")
                lines += [f"  - {_code(line)}" for line in costtext.unpriced_detail(unpriced)]
    return ["", "**Cost is incomplete.** Unpriced resources, by type and region:", *lines] if lines else []


# Layer 2: what a reviewer must see, at three levels of detail --------------------


def _violation_lines(title: str, violations: list[Violation], level: int) -> list[str]:
    if not violations:
        return []
    ordered = sorted(violations, key=lambda v: (v.level != "mandatory", v.policy, v.resource or ""))
    lines = [f"**{title}** ({len(violations)})", ""]
    if len(violations) <= GROUP_VIOLATIONS_OVER and level == 0:
        lines += [
            f"- {v.level} {_code(v.policy)} {_code(v.resource or '(stack)')}: {v.message}" for v in ordered
        ]
    else:
        for (policy, rule_level), group in groupby(ordered, key=lambda v: (v.policy, v.level)):
            items = list(group)
            lines.append(f"- {_code(policy)} ({rule_level}, {len(items)}):")
            name = (
                (lambda v: v.resource or "(stack)")
                if level == 0
                else (lambda v: (v.resource or "(stack)").split()[-1])
            )
            lines += [f"  - {_code(name(v))}: {v.message}" for v in items]
    return [*lines, ""]


def _dangerous_lines(changes: list[ResourceChange], action: str, level: int, width: int | None) -> list[str]:
    chosen = [c for c in changes if c.action == action]
    if not chosen:
        return []
    lines = [f"**{TITLES[action]}** ({len(chosen)})", ""]
    if level == 2:
        return [*lines, ", ".join(_code(c.name) for c in chosen), ""]
    for c in chosen:
        forcing = [p for p in c.properties if p.replaces]
        if level == 1 or not forcing:
            paths = f", forced by {', '.join(_code(p.path) for p in forcing)}" if forcing else ""
            lines.append(f"- {_code(c.type)} **{c.name}**{paths}")
        else:
            lines.append(f"- {_code(c.type)} **{c.name}**, forced by:")
            lines += [
                f"  - {_code(p.path)}: {_value(p.old, width)} → {_value(p.new, width)}" for p in forcing
            ]
    return [*lines, ""]


def _model_lines(models: list[ModelChange], level: int) -> list[str]:
    if not models:
        return []
    lines = [
        f"**Models** ({len(models)}: "
        + ", ".join(f"{n} {s}" for s, n in Counter(m.status for m in models).items())
        + ")",
        "",
    ]
    if level == 2:
        for status in ("added", "changed", "removed"):
            names = [m.name for m in models if m.status == status]
            if names:
                lines += [f"- {status}: " + ", ".join(_code(n) for n in names)]
        return [*lines, ""]
    if level == 1:
        return [
            *lines,
            *(
                f"- {_code(m.name)} {m.status}: {m.resources} resources, "
                f"Δ {costtext.part_delta(m.before, m.after)}"
                for m in models
            ),
            "",
        ]
    lines += [
        "| model | status | add | update | replace | remove | monthly max before → after | Δ max |",
        "|---|---|--:|--:|--:|--:|---|--:|",
    ]
    for m in models:
        counts = " | ".join(str(m.counts.get(a, 0)) for a in ACTIONS)
        cost = f"{costtext.part(m.before)} → {costtext.part(m.after)}"
        lines.append(
            f"| {m.name} | {m.status} | {counts} | {cost} | {costtext.part_delta(m.before, m.after)} |"
        )
    return [*lines, ""]


def must_see(diff: StackDiff, level: int = 0, width: int | None = VALUE_WIDTH) -> str:
    """Violations, replacements, removals and models of one stack: always in the comment."""
    lines = [f"### {diff.stack}: {_counts(diff)}", ""]
    if diff.note:
        lines += [f"_{diff.note}_", ""]
    lines += _violation_lines("New policy violations", diff.new_violations, level)
    lines += _violation_lines("Resolved policy violations", diff.resolved_violations, level)
    lines += _dangerous_lines(diff.changes, "replace", level, width)
    lines += _dangerous_lines(diff.changes, "remove", level, width)
    lines += _model_lines(diff.models, level)
    return "\n".join(lines) + "\n"


# Layer 3: resource detail, grouped by component -------------------------------------


def _full(change: ResourceChange, width: int | None) -> list[str]:
    head = f"- {change.action} {_code(change.type)} **{change.name}**"
    lines = [head]
    for p in change.properties:
        forcing = " *(forces replacement)*" if p.replaces else ""
        lines.append(f"  - {_code(p.path)}: {_value(p.old, width)} → {_value(p.new, width)}{forcing}")
    return lines


def _compact(change: ResourceChange) -> list[str]:
    extra = f" ({len(change.properties)} properties)" if change.properties else ""
    return [f"- {change.action} {_code(change.type)} **{change.name}**{extra}"]


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
        kinds = [f"{n} {_code(t)}" for (a, t), n in sorted(tally.items()) if a == action]
        lines += [f"- to {action}: " + ", ".join(kinds)] if kinds else []
    return lines


def _group_text(component: str, changes: list[ResourceChange], render: Callable) -> str:
    models = {c.model for c in changes}
    model = next(iter(models))
    owner = f" (model {_code(model)})" if len(models) == 1 and model not in (component, PLATFORM) else ""
    return "\n".join([f"**{component}**{owner}: {len(changes)} changes", "", *render(changes), ""]) + "\n"


def _details(diffs: list[StackDiff], budget: int, width: int | None) -> tuple[str, bool]:
    """Every stack's resource changes by component, as detailed as ``budget`` allows.

    Three passes of rising detail: every component group is counted (while room
    lasts), then listed one line per resource, then listed with property values.
    Each pass renders each group once, so the work stays linear.
    """
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
    spent = sum(size(_wrapper(d, len(groups))) for d in diffs)  # room for the "left out" line too
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
    shortened = any(level < len(levels) - 1 for level in detail)
    if spent > budget:
        return "", True
    out = []
    for diff in diffs:
        texts = [t for (stack, _, _), t in zip(groups, chosen, strict=True) if stack == diff.stack]
        omitted = sum(1 for t in texts if not t)
        if texts:
            head, tail = _wrapper(diff, omitted).split("{}")
            out.append(head + "".join(t for t in texts if t) + tail)
    return "\n".join(out), shortened


def _partial(component: str, changes: list[ResourceChange], room: int) -> str | None:
    """A group's counts, then one line per resource for as many as ``room`` holds."""
    counted = _group_text(component, changes, _counted)
    tail = f"- …and {len(changes):,} more: see the whole diff"
    used = size(counted) + size(tail) + 2
    listed = []
    for change in changes:
        [line] = _compact(change)
        if used + size(line) + 1 > room:
            break
        listed.append(line)
        used += size(line) + 1
    if not listed:
        return None
    tail = f"- …and {len(changes) - len(listed):,} more: see the whole diff"
    return _group_text(component, changes, lambda cs: [*_counted(cs), *listed, tail])


def _wrapper(diff: StackDiff, omitted: int) -> str:
    """The fold around one stack's details; ``{}`` marks where the groups go."""
    more = f"_{omitted} more component group(s) left out: see the whole diff._\n\n" if omitted else ""
    return (
        f"<details>\n<summary><b>{diff.stack}</b>: resource changes by component "
        f"({len(diff.changes)})</summary>\n\n{{}}{more}</details>\n"
    )


# The whole comment -------------------------------------------------------------------


def _banner(links: Links, limit: int) -> str:
    return (
        f"\n> ✂️ **Detail was left out to fit {limit:,} characters.** Every violation, replacement, "
        f"removal and model is above. The whole diff: {links.markdown()}.\n"
    )


def render(
    diffs: list[StackDiff],
    base: str,
    head: str,
    *,
    links: Links = Links(),
    limit: int = GITHUB_COMMENT_LIMIT,
    width: int | None = VALUE_WIDTH,
) -> str:
    """The comment (or, with ``limit=STEP_SUMMARY_LIMIT`` and ``width=None``, the full summary)."""
    top = summary(diffs, base, head)
    banner = _banner(links, limit)
    footer = f"\n_Prices and policy from `{head}`. Whole diff: {links.markdown()}._\n"
    budget = limit - size(top) - size(banner) - size(footer)
    cut = False
    for level in (0, 1, 2):
        sections = [must_see(d, level, width) for d in diffs]
        needed = sum(size(s) + 1 for s in sections)
        if needed <= budget:
            break
    else:  # even the names alone do not fit: cut, and say where the rest is
        note = "\n\n_…cut here: the rest is in the whole diff._\n"
        kept = "\n".join(sections).encode("utf-8")[: max(budget - size(note) - 1, 0)]
        sections, needed, cut = [kept.decode("utf-8", errors="ignore") + note], budget, True
    detail, dropped = _details(diffs, budget - needed, width)
    shortened = level > 0 or dropped or cut
    body = "\n".join(sections) + ("\n" + detail if detail else "")
    return top + (banner if shortened else "") + "\n" + body + footer
