"""Stack diffs for a terminal: complete, sectioned per stack and per model, never shortened.

A terminal has no size limit, so nothing is left out: every violation, every
resource change and every property with its whole old and new value. Lines that
carry values are printed with soft wrap (the terminal folds them, nothing is cut
or re-broken), so they stay whole when copied or searched. Tables keep numbers on
one line; a table too wide for the terminal is printed one block per row instead
of squashing its columns.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from rich.cells import cell_len
from rich.console import Console
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from infra.plan import costtext
from infra.plan.diff import ACTIONS, ModelChange, ResourceChange, StackDiff
from infra.plan.owners import PLATFORM
from infra.plan.policy import Violation

UNBOUNDED = 100_000  # a width no table reaches: what it needs to show every cell whole
STYLES = {"replace": "red bold", "remove": "red", "add": "green", "update": "yellow"}


def _value(value) -> str:
    return "(none)" if value is None else json.dumps(value, sort_keys=True, default=str)


def _line(console: Console, text: str | Text) -> None:
    console.print(text, soft_wrap=True, highlight=False, markup=False)


def _heading(console: Console, title: str, style: str) -> None:
    """A rule with the title in it, or the title alone when a rule would cut it."""
    if cell_len(title) + 6 <= console.width:
        console.print(Rule(Text(title, style=style), align="left", style=style))
    else:
        _line(console, Text(title, style=style))


def _table(console: Console, title: str, columns: Sequence[tuple[str, bool]], rows: list[list[str]]) -> None:
    """A table, or one line per row when the table cannot show every cell whole on this terminal.

    ``columns`` are (header, numeric): numeric cells never wrap.
    """
    table = Table(title=title, title_justify="left", show_edge=False)
    for header, numeric in columns:
        table.add_column(header, justify="right" if numeric else "left", no_wrap=numeric, overflow="fold")
    for row in rows:
        table.add_row(*row)
    natural = console.measure(table, options=console.options.update_width(UNBOUNDED)).maximum
    if natural <= console.width:
        console.print(table)
        return
    _line(console, Text(title, style="italic"))
    for row in rows:
        _line(
            console,
            "  " + "  ".join(f"{h}: {cell}" for (h, _), cell in zip(columns, row, strict=True) if cell),
        )


def _summary(console: Console, diff: StackDiff) -> None:
    _line(console, Text(diff.counts_text(), style="bold"))
    if diff.note:
        _line(console, diff.note)
    before, after = diff.cost_before, diff.cost_after
    _line(console, f"monthly cost before: {costtext.total(before.low, before.high, before.unpriced)}")
    _line(console, f"monthly cost after:  {costtext.total(after.low, after.high, after.unpriced)}")
    _line(
        console, f"monthly cost change (max): {costtext.delta(before.high, after.high, diff.delta_unpriced)}"
    )
    for label, unpriced in (("after", after.unpriced), ("change", diff.delta_unpriced)):
        for line in costtext.unpriced_detail(unpriced):
            _line(console, f"  unpriced ({label}): {line}")


def _violations(console: Console, title: str, violations: list[Violation]) -> None:
    """One entry per violation, mandatory first; the message on its own soft-wrapped line."""
    if not violations:
        return
    _line(console, Text(f"{title} ({len(violations)})", style="bold"))
    for v in sorted(violations, key=lambda v: (v.level != "mandatory", v.policy, v.resource or "")):
        head = Text("  ")
        head.append(v.level, style="red" if v.level == "mandatory" else "yellow")
        head.append(f"  {v.policy}  {v.resource or '(stack)'}")
        _line(console, head)
        _line(console, f"      {v.message}")


def _change(console: Console, change: ResourceChange, indent: str = "  ") -> None:
    head = Text(indent)
    head.append(f"{change.action:<7}", style=STYLES[change.action])
    head.append(f" {change.type} {change.name}")
    _line(console, head)
    for p in change.properties:
        forcing = "  (forces replacement)" if p.replaces else ""
        _line(console, f"{indent}    {p.path}: {_value(p.old)} -> {_value(p.new)}{forcing}")


def _models(console: Console, models: list[ModelChange]) -> None:
    if not models:
        return
    rows = [
        [
            m.name,
            m.status,
            *(str(m.counts.get(a, 0)) for a in ACTIONS),
            costtext.part(m.before),
            costtext.part(m.after),
            costtext.part_delta(m.before, m.after),
        ]
        for m in models
    ]
    columns = [("model", False), ("status", False), *((a, True) for a in ACTIONS)]
    columns += [("monthly before", True), ("monthly after", True), ("change (max)", True)]
    _table(console, f"Models ({len(models)})", columns, rows)


def render_stack(console: Console, diff: StackDiff) -> None:
    """One stack: summary and cost, violations, replacements and removals, models, then per model."""
    _heading(console, f"stack {diff.stack}", "bold")
    _summary(console, diff)
    _violations(console, "New policy violations", diff.new_violations)
    _violations(console, "Resolved policy violations", diff.resolved_violations)
    for action in ("replace", "remove"):
        chosen = [c for c in diff.changes if c.action == action]
        if chosen:
            _line(
                console,
                Text(f"{'Replaced' if action == 'replace' else 'Removed'} ({len(chosen)})", style="bold"),
            )
            for change in chosen:
                _change(console, change)
    _models(console, diff.models)
    by_model: dict[str, list[ResourceChange]] = {}
    for change in diff.changes:
        by_model.setdefault(change.model, []).append(change)
    statuses = {m.name: m.status for m in diff.models}
    for model in sorted(by_model, key=lambda m: (m == PLATFORM, m)):
        label = (
            "shared platform resources"
            if model == PLATFORM
            else f"model {model} ({statuses.get(model, 'changed')})"
        )
        _heading(console, f"{diff.stack} · {label} · {len(by_model[model])} changes", "dim")
        for change in by_model[model]:
            _change(console, change)


def render(console: Console, diffs: list[StackDiff], base: str, head: str) -> None:
    _line(console, Text(f"modelfleet offline plan diff: {base} -> {head}", style="bold"))
    for diff in diffs:
        render_stack(console, diff)
