"""How money reads everywhere (cost, plan, diff, new-model): known, unknown, or incomplete (pure).

An estimate that leaves resources out never reads as a complete figure: it says
"incomplete: N resources unpriced" and names the resource types, regions and
missing prices, and a delta over unpriced resources is "unknown", with the
priced part shown beside it for scale.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from infra.plan.cost import MISSING_PRICE as MISSING
from infra.plan.cost import Unpriced

UNKNOWN = "unknown"


def money(value: float | None) -> str:
    return UNKNOWN if value is None else f"${value:,.0f}"


def money_range(low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return UNKNOWN
    return money(low) if round(low) == round(high) else f"{money(low)}-{money(high)}"


def signed(change: float) -> str:
    return "±$0" if round(change) == 0 else f"{'+' if change > 0 else '-'}${abs(change):,.0f}"


def unpriced_count(unpriced: Sequence[Unpriced]) -> int:
    return sum(u.count for u in unpriced)


def incomplete(unpriced: Sequence[Unpriced]) -> str:
    """'incomplete: N resources unpriced' (empty when nothing is unpriced)."""
    count = unpriced_count(unpriced)
    if not count:
        return ""
    return f"incomplete: {count} resource{'s' if count != 1 else ''} unpriced"


def unpriced_detail(unpriced: Sequence[Unpriced]) -> list[str]:
    """One line per resource type and region: how many, and which prices are missing."""
    lines = []
    for u in unpriced:
        missing = [r.removeprefix(MISSING) for r in u.reasons if r.startswith(MISSING)]
        other = [r for r in u.reasons if not r.startswith(MISSING)]
        why = ([MISSING + ", ".join(missing)] if missing else []) + other
        lines.append(f"{u.type} x{u.count} in {u.region}: {'; '.join(why)}")
    return lines


def total(low: float | None, high: float | None, unpriced: Sequence[Unpriced]) -> str:
    """A monthly total: '$1-$2', 'unknown', or '$1-$2 known; incomplete: N resources unpriced'."""
    shown = money_range(low, high)
    if not unpriced or shown == UNKNOWN:
        return shown if not unpriced else f"{UNKNOWN} ({incomplete(unpriced)})"
    return f"{shown} priced; {incomplete(unpriced)}"


def delta(before: float | None, after: float | None, unpriced: Sequence[Unpriced] = ()) -> str:
    """A change of monthly cost; 'unknown' whenever a resource it depends on is unpriced."""
    if before is None or after is None:
        return UNKNOWN + (f" ({incomplete(unpriced)})" if unpriced else "")
    if unpriced:
        return f"{UNKNOWN} ({signed(after - before)} on priced resources; {incomplete(unpriced)})"
    return signed(after - before)


class Part(Protocol):
    """One model's cost on one side of a diff (``infra.plan.diff.ModelCost``)."""

    low: float
    high: float

    @property
    def known(self) -> bool: ...


def part(cost: Part | None) -> str:
    """A model's monthly cost: 'none' when absent, 'unknown' when any of its resources is unpriced."""
    if cost is None:
        return "none"
    return money_range(cost.low, cost.high) if cost.known else UNKNOWN


def part_delta(before: Part | None, after: Part | None) -> str:
    """The change of a model's monthly cost at max scale; unknown if either side is unpriced."""
    if any(side is not None and not side.known for side in (before, after)):
        return UNKNOWN
    return signed((after.high if after else 0.0) - (before.high if before else 0.0))
