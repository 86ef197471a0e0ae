"""A PR comment from stack diffs: summary table first, details folded, always under GitHub's limit.

GitHub rejects comments over 65,536 characters. The summary always fits; each
stack's details are added whole if they fit, then in a compact form (one line
per resource), then not at all, with a pointer to the full artifact.
"""

from __future__ import annotations

import json

from infra.plan.diff import CostTotals, ResourceChange, StackDiff
from infra.plan.render import money, money_range

GITHUB_COMMENT_LIMIT = 65_536
VALUE_WIDTH = 60
MARKER = "<!-- modelfleet-plan-diff -->"  # lets the workflow update its own comment


def _value(value) -> str:
    text = "(none)" if value is None else json.dumps(value, sort_keys=True, default=str)
    text = text if len(text) <= VALUE_WIDTH else text[: VALUE_WIDTH - 1] + "…"
    return "`" + text.replace("`", "'") + "`"


def _cost(totals: CostTotals) -> str:
    return money_range(totals.low, totals.high) + (f" (+{totals.unknown} unknown)" if totals.unknown else "")


def _delta(before: float | None, after: float | None) -> str:
    if before is None or after is None:
        return "unknown"
    change = after - before
    return "±$0" if round(change) == 0 else f"{'+' if change > 0 else '-'}${abs(change):,.0f}"


def _counts(diff: StackDiff) -> str:
    parts = [f"{diff.count(a)} to {a}" for a in ("add", "update", "replace", "remove") if diff.count(a)]
    return ", ".join(parts) or "no resource changes"


def summary(diffs: list[StackDiff], base: str, head: str) -> str:
    lines = [
        MARKER,
        f"## modelfleet offline plan diff: `{base}` → `{head}`",
        "",
        "| stack | add | update | replace | remove | new violations | resolved "
        "| monthly cost (min-max) | Δ max |",
        "|---|--:|--:|--:|--:|---|--:|---|--:|",
    ]
    for d in diffs:
        mandatory = sum(v.level == "mandatory" for v in d.new_violations)
        advisory = len(d.new_violations) - mandatory
        violations = f"{'❌ ' if mandatory else ''}{mandatory} mandatory, {advisory} advisory"
        lines.append(
            f"| {d.stack} | {d.count('add')} | {d.count('update')} | {d.count('replace')} "
            f"| {d.count('remove')} "
            f"| {violations} | {len(d.resolved_violations)} | {_cost(d.cost_before)} → {_cost(d.cost_after)} "
            f"| {_delta(d.cost_before.high, d.cost_after.high)} |"
        )
    replaced = sum(d.count("replace") for d in diffs)
    if replaced:
        lines += ["", f"> ⚠️ **{replaced} resource(s) will be replaced** (a create-only property changed)."]
    return "\n".join(lines) + "\n"


def _change_lines(change: ResourceChange, *, compact: bool) -> list[str]:
    head = f"- `{change.type}` **{change.name}**"
    if compact or not change.properties:
        return [head + (f" ({len(change.properties)} properties)" if change.properties else "")]
    lines = [head]
    for p in change.properties:
        forcing = " *(forces replacement)*" if p.replaces else ""
        lines.append(f"  - `{p.path}`: {_value(p.old)} → {_value(p.new)}{forcing}")
    return lines


def details(diff: StackDiff, *, compact: bool = False) -> str:
    lines = ["<details>", f"<summary><b>{diff.stack}</b>: {_counts(diff)}</summary>", ""]
    if diff.note:
        lines += [f"_{diff.note}_", ""]
    titles = {"replace": "Replaced", "remove": "Removed", "add": "Added", "update": "Updated in place"}
    for action, title in titles.items():
        changes = [c for c in diff.changes if c.action == action]
        if changes:
            lines += [f"**{title}** ({len(changes)})", ""]
            lines += [line for c in changes for line in _change_lines(c, compact=compact)]
            lines.append("")
    for title, violations in (
        ("New policy violations", diff.new_violations),
        ("Resolved", diff.resolved_violations),
    ):
        if violations:
            lines += [f"**{title}**", ""]
            lines += [f"- {v.level} `{v.policy}` {v.resource or '(stack)'}: {v.message}" for v in violations]
            lines.append("")
    if diff.model_costs:
        lines += [
            "**Monthly cost per model, at max scale**",
            "",
            "| model | before | after | Δ |",
            "|---|--:|--:|--:|",
        ]
        lines += [
            f"| {m} | {money(a)} | {money(b)} | {_delta(a, b)} |" for m, (a, b) in diff.model_costs.items()
        ]
        lines.append("")
    lines.append("</details>")
    return "\n".join(lines) + "\n"


def render(
    diffs: list[StackDiff], base: str, head: str, *, artifact: str, limit: int = GITHUB_COMMENT_LIMIT
) -> str:
    footer = f"\n_Prices and policy from `{head}`. Full diff: {artifact}._\n"
    cut = f"\n> ✂️ Details were shortened to fit a comment. The full diff is in {artifact}.\n"
    body = summary(diffs, base, head)
    shortened = False
    for diff in diffs:
        full = details(diff)
        for candidate in (full, details(diff, compact=True), f"\n_{diff.stack}: details omitted._\n"):
            if len(body) + len(candidate) + len(cut) + len(footer) <= limit:
                body += "\n" + candidate
                shortened = shortened or candidate is not full
                break
        else:
            shortened = True
    text = body + (cut if shortened else "") + footer
    return text if len(text) <= limit else text[: limit - len(cut)] + cut
