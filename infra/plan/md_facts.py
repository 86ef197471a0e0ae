"""Layer 2 of a PR comment: what a reviewer must see, per stack, at three levels of detail (pure).

Each stack gives blocks: its heading, new mandatory violations, replacements,
removals, models, resolved violations and new advisory violations. At level 0
everything is shown in full; level 1 is one line per item, with violations that
share a message grouped; level 2 is names only. When even names do not fit, the
blocks are kept by priority across all stacks (mandatory violations first), and
every block left out is named in a note: nothing disappears silently.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from itertools import groupby

from infra.plan import costtext
from infra.plan.diff import ACTIONS, ModelChange, ResourceChange, StackDiff
from infra.plan.mdtext import code, escape, fit, size, value
from infra.plan.policy import Violation

LEVELS = (0, 1, 2)
FLAT_VIOLATIONS = 5  # up to this many violations are listed one by one at level 0
MESSAGE_WIDTH = (1_000, 300, 160)  # a violation message is cut to this, per level
TITLES = {"replace": "Replaced", "remove": "Removed"}


@dataclass(frozen=True)
class Block:
    """One part of a stack's must-see section."""

    priority: int  # lower is kept first when even the names do not fit
    stack: str
    text: str
    what: str  # what it lists, for the note when it is left out: "1,500 advisory violations"


def _resource(violation: Violation) -> str:
    parts = (violation.resource or "(stack)").split()
    return parts[-1] if parts else "(stack)"


def _resource_in_full(violation: Violation) -> str:
    """`name` (`type`): the name alone is what every level shows, so it is searched for alike."""
    kind = (violation.resource or "").split()[:-1]
    return code(_resource(violation)) + (f" ({code(' '.join(kind))})" if kind else "")


def _violations(title: str, violations: list[Violation], level: int) -> str:
    ordered = sorted(violations, key=lambda v: (v.policy, v.resource or "", v.message))
    width = MESSAGE_WIDTH[level]
    lines = [f"**{title}** ({len(violations)})", ""]
    if level == 0 and len(violations) <= FLAT_VIOLATIONS:
        lines += [
            f"- {v.level} {code(v.policy)} {_resource_in_full(v)}: {escape(v.message, width)}"
            for v in ordered
        ]
    elif level == 0:
        for policy, group in groupby(ordered, key=lambda v: v.policy):
            items = list(group)
            lines.append(f"- {code(policy)} ({len(items)}):")
            lines += [f"  - {code(_resource(v))}: {escape(v.message, width)}" for v in items]
    else:
        key = (lambda v: (v.policy, escape(v.message, width))) if level == 1 else (lambda v: (v.policy, ""))
        for (policy, message), group in groupby(sorted(ordered, key=key), key=key):
            items = list(group)
            said = f": {message}" if message else f", e.g. {escape(items[0].message, width)}"
            names = ", ".join(code(_resource(v)) for v in items)
            lines.append(f"- {code(policy)} ({len(items)}){said} — {names}")
    return "\n".join(lines) + "\n"


def _dangerous(chosen: list[ResourceChange], action: str, level: int, width: int | None) -> str:
    lines = [f"**{TITLES[action]}** ({len(chosen)})", ""]
    if level == 2:
        lines.append(", ".join(code(c.name) for c in chosen))
    for c in chosen if level < 2 else []:
        forcing = [p for p in c.properties if p.replaces]
        if level == 1 or not forcing:
            paths = f", forced by {', '.join(code(p.path) for p in forcing)}" if forcing else ""
            lines.append(f"- {code(c.type)} **{c.name}**{paths}")
        else:
            lines.append(f"- {code(c.type)} **{c.name}**, forced by:")
            lines += [f"  - {code(p.path)}: {value(p.old, width)} → {value(p.new, width)}" for p in forcing]
    return "\n".join(lines) + "\n"


def _delta(model: ModelChange) -> str:
    return costtext.part_delta(model.before, model.after)


def _models(models: list[ModelChange], level: int) -> str:
    tally = ", ".join(f"{n} {s}" for s, n in Counter(m.status for m in models).items())
    lines = [f"**Models** ({len(models)}: {tally})", ""]
    if level == 2:
        for status in ("added", "changed", "removed"):
            names = [code(m.name) for m in models if m.status == status]
            lines += [f"- {status}: " + ", ".join(names)] if names else []
    elif level == 1:
        lines += [f"- {code(m.name)} {m.status}: {m.resources} resources, Δ {_delta(m)}" for m in models]
    else:
        lines += [
            "| model | status | add | update | replace | remove | monthly max before → after | Δ max |",
            "|---|---|--:|--:|--:|--:|---|--:|",
        ]
        for m in models:
            tallies = " | ".join(str(m.counts.get(a, 0)) for a in ACTIONS)
            cost = f"{costtext.part(m.before)} → {costtext.part(m.after)}"
            lines.append(
                f"| {m.name} | {m.status} | {tallies} | {cost} | {costtext.part_delta(m.before, m.after)} |"
            )
    return "\n".join(lines) + "\n"


def blocks(diff: StackDiff, level: int, width: int | None) -> list[Block]:
    """The must-see blocks of one stack at ``level``, in the order they are shown."""
    head = f"### {diff.stack}: {diff.counts_text()}\n" + (f"\n_{diff.note}_\n" if diff.note else "")
    found = [Block(0, diff.stack, head, f"{diff.stack}'s heading")]
    mandatory = [v for v in diff.new_violations if v.level == "mandatory"]
    advisory = [v for v in diff.new_violations if v.level != "mandatory"]
    if mandatory:
        text = _violations("New mandatory violations", mandatory, level)
        found.append(Block(1, diff.stack, text, f"{len(mandatory):,} new mandatory violations"))
    for priority, action in ((2, "replace"), (3, "remove")):
        chosen = [c for c in diff.changes if c.action == action]
        if chosen:
            what = f"{len(chosen):,} {'replacements' if action == 'replace' else 'removals'}"
            found.append(Block(priority, diff.stack, _dangerous(chosen, action, level, width), what))
    if diff.models:
        found.append(Block(4, diff.stack, _models(diff.models, level), f"{len(diff.models):,} models"))
    if diff.resolved_violations:
        resolved = diff.resolved_violations
        text = _violations("Resolved violations", resolved, level)
        found.append(Block(5, diff.stack, text, f"{len(resolved):,} resolved violations"))
    if advisory:
        text = _violations("New advisory violations", advisory, level)
        found.append(Block(6, diff.stack, text, f"{len(advisory):,} new advisory violations"))
    return found


def must_see(diffs: list[StackDiff], budget: int, width: int | None) -> tuple[str, int, bool]:
    """Every stack's must-see section within ``budget`` bytes: (text, level used, complete?).

    The richest level at which every block fits is used. Otherwise names only,
    kept by priority across stacks; a block that does not fit lists what fits of
    it, and each stack ends with a note naming what was left out.
    """
    for level in LEVELS:
        found = [b for d in diffs for b in blocks(d, level, width)]
        text = "\n".join(b.text for b in found)
        if size(text) <= budget:
            return text, level, True
    notes = {d.stack: "" for d in diffs}
    room = budget - sum(size(_note(d.stack, ["x" * 40] * 7)) for d in diffs)  # the notes, at most
    kept: dict[int, str] = {}
    left: dict[str, list[str]] = {d.stack: [] for d in diffs}
    for index, block in sorted(enumerate(found), key=lambda item: (item[1].priority, item[0])):
        if size(block.text) + 1 <= room:
            kept[index] = block.text
            room -= size(block.text) + 1
            continue
        lines, dropped = fit(block.text.splitlines(), room, "- …")
        if len(lines) > 2:  # more than the title: show what fits
            kept[index] = "\n".join([*lines, f"- …and {dropped:,} more lines"]) + "\n"
            room -= size(kept[index]) + 1
        left[block.stack].append(block.what)
    for stack, what in left.items():
        notes[stack] = _note(stack, what) if what else ""
    parts = []
    for index, block in enumerate(found):
        if index in kept:
            parts.append(kept[index])
        if index + 1 == len(found) or found[index + 1].stack != block.stack:
            parts.append(notes[block.stack])
    return "\n".join(p for p in parts if p), LEVELS[-1], False


def _note(stack: str, what: list[str]) -> str:
    return f"> ✂️ **{stack}: not all shown here** ({'; '.join(what)}). See the whole diff.\n"
