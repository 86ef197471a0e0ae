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

from dataclasses import dataclass

from infra.plan import costtext
from infra.plan.diff import ACTIONS, CostTotals, StackDiff
from infra.plan.md_details import details
from infra.plan.md_facts import must_see
from infra.plan.mdtext import code, fit, size

GITHUB_COMMENT_LIMIT = 65_536  # characters in an issue or PR comment
STEP_SUMMARY_LIMIT = 1_000_000  # GitHub refuses a step summary over 1024k; room for what else the step writes
VALUE_WIDTH = 60  # property values are cut to this in a comment; never in a summary
MARKER = "<!-- modelfleet-plan-diff -->"  # lets the workflow update its own comment


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


def _stack_cost(totals: CostTotals) -> str:
    return costtext.total(totals.low, totals.high, totals.unpriced)


def _stack_delta(diff: StackDiff) -> str:
    return costtext.delta(diff.cost_before.high, diff.cost_after.high, diff.delta_unpriced)


# Layer 1 ----------------------------------------------------------------------


def summary(diffs: list[StackDiff], base: str, head: str, *, detail: bool = True) -> str:
    """The per-stack table, and what each estimate leaves out (types and regions, with ``detail``)."""
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
    lines += _unpriced_notes(diffs, detail)
    replaced = sum(d.count("replace") for d in diffs)
    if replaced:
        lines += ["", f"> ⚠️ **{replaced} resource(s) will be replaced** (a create-only property changed)."]
    return "\n".join(lines) + "\n"


def _unpriced_notes(diffs: list[StackDiff], detail: bool) -> list[str]:
    lines = []
    for d in diffs:
        for what, unpriced in (
            ("before the change", d.cost_before.unpriced),
            ("after the change", d.cost_after.unpriced),
            ("the change itself", d.delta_unpriced),
        ):
            if unpriced:
                lines.append(f"- **{d.stack}**, {what}: {costtext.incomplete(unpriced)}")
                lines += (
                    [f"  - {code(line)}" for line in costtext.unpriced_detail(unpriced)] if detail else []
                )
    return ["", "**Cost is incomplete.** Unpriced resources, by type and region:", *lines] if lines else []


# The whole comment -------------------------------------------------------------------


def _banner(links: Links, limit: int, complete_facts: bool) -> str:
    facts = (
        "Every violation, replacement, removal and model is above."
        if complete_facts
        else "Even the names did not all fit: each stack says what it leaves out."
    )
    cut = f"**Detail was left out to fit {limit:,} characters.**"
    return f"\n> ✂️ {cut} {facts} The whole diff: {links.markdown()}.\n"


def render(
    diffs: list[StackDiff],
    base: str,
    head: str,
    *,
    links: Links = Links(),
    limit: int = GITHUB_COMMENT_LIMIT,
    width: int | None = VALUE_WIDTH,
) -> str:
    """The comment (or, with ``limit=STEP_SUMMARY_LIMIT`` and ``width=None``, the whole summary)."""
    footer = f"\n_Prices and policy from `{head}`. Whole diff: {links.markdown()}._\n"
    banner = _banner(links, limit, complete_facts=False)  # the longer one, to budget for
    top = summary(diffs, base, head)
    if size(top) + size(banner) + size(footer) > limit // 2:  # the summary may take half at most
        top = summary(diffs, base, head, detail=False)
    budget = limit - size(top) - size(banner) - size(footer) - 1
    facts, level, all_facts = must_see(diffs, budget, width)
    detail, all_detail = details(diffs, budget - size(facts) - 1, width)
    shortened = level > 0 or not all_facts or not all_detail
    body = facts + ("\n" + detail if detail else "")
    text = top + (_banner(links, limit, all_facts) if shortened else "") + "\n" + body + footer
    if size(text) <= limit:
        return text
    kept, _ = fit(text.splitlines(), limit - size(footer), "_…cut here._")  # e.g. thousands of stacks
    return "\n".join([*kept, "_…cut here._"]) + footer
