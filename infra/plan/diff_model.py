"""The shape of a stack diff: changes, policy and cost deltas, per model; and its JSON form.

``to_dict`` is what ``modelfleet diff --format json`` writes; ``from_dict`` reads it
back (``--from``), checking every field's kind so a file of another shape gives one
clear error instead of failing half-way through rendering.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from infra.plan.cost import CostReport, Unpriced
from infra.plan.owners import PLATFORM, STACK
from infra.plan.policy import Violation

ACTIONS = ("add", "update", "replace", "remove")  # the order counts are shown in


@dataclass(frozen=True)
class PropertyChange:
    path: str
    old: Any
    new: Any
    replaces: bool


@dataclass(frozen=True)
class ResourceChange:
    action: str  # "add" | "remove" | "update" | "replace"
    urn: str
    type: str
    name: str
    properties: list[PropertyChange] = field(default_factory=list)
    model: str = PLATFORM  # the model it serves (infra.plan.owners), for the per-model section
    component: str = STACK  # the component right under the root: details are grouped by it

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ResourceChange:
        if data.get("action") not in ACTIONS:
            raise ValueError(
                f"a change's action must be one of {', '.join(ACTIONS)} (got {data.get('action')!r})"
            )
        properties = [PropertyChange(**p) for p in data.get("properties", [])]
        change = cls(**{**data, "properties": properties})
        _texts(change.urn, change.type, change.name, change.model, change.component)
        return change


@dataclass(frozen=True)
class CostTotals:
    """A stack's monthly estimate; ``unpriced`` is what it leaves out (empty: complete)."""

    low: float | None  # None: unknown (the region has no price table)
    high: float | None
    unpriced: tuple[Unpriced, ...] = ()

    @property
    def unknown(self) -> int:
        return sum(u.count for u in self.unpriced)

    @classmethod
    def of(cls, report: CostReport | None) -> CostTotals:
        if report is None:
            return cls(0.0, 0.0)
        low, high = report.totals
        return cls(low, high, report.unpriced)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CostTotals:
        low, high = (_number(data[k], optional=True) for k in ("low", "high"))
        return cls(low, high, _unpriced_from(data.get("unpriced", [])))


@dataclass(frozen=True)
class ModelCost:
    """One model's monthly cost at min and max scale; any unpriced resource makes it unknown."""

    low: float
    high: float
    unpriced: int  # resources of this model whose price is unknown

    @property
    def known(self) -> bool:
        return not self.unpriced


@dataclass(frozen=True)
class ModelChange:
    """What a change does to one model: added, changed or removed, per action, and its cost."""

    name: str
    status: str  # "added" | "changed" | "removed"
    counts: dict[str, int]  # action -> resources
    before: ModelCost | None  # None: the model is not in that plan
    after: ModelCost | None

    @property
    def resources(self) -> int:
        return sum(self.counts.values())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelChange:
        sides = {k: _model_cost(data[k]) if data.get(k) else None for k in ("before", "after")}
        counts = {action: int(_number(data["counts"].get(action, 0))) for action in ACTIONS}
        _texts(data["name"], data["status"])
        return cls(data["name"], data["status"], counts, **sides)


@dataclass(frozen=True)
class StackDiff:
    stack: str
    changes: list[ResourceChange]
    new_violations: list[Violation]
    resolved_violations: list[Violation]
    cost_before: CostTotals
    cost_after: CostTotals
    models: list[ModelChange] = field(default_factory=list)
    delta_unpriced: tuple[Unpriced, ...] = ()  # changed resources of unknown price: the delta is unknown
    note: str | None = None  # e.g. "new stack: nothing to compare against"

    def count(self, action: str) -> int:
        return sum(1 for change in self.changes if change.action == action)

    def counts_text(self) -> str:
        """'3 to add, 1 to replace', or 'no resource changes': how every view names the change."""
        parts = [f"{self.count(a)} to {a}" for a in ACTIONS if self.count(a)]
        return ", ".join(parts) or "no resource changes"

    def to_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "note": self.note,
            "counts": {a: self.count(a) for a in ACTIONS},
            "changes": [
                {
                    **{k: v for k, v in c.__dict__.items() if k != "properties"},
                    "properties": [p.__dict__ for p in c.properties],
                }
                for c in self.changes
            ],
            "policy": {
                "new": [v.__dict__ for v in self.new_violations],
                "resolved": [v.__dict__ for v in self.resolved_violations],
            },
            "cost": {
                "before": _totals_dict(self.cost_before),
                "after": _totals_dict(self.cost_after),
                "delta_complete": not self.delta_unpriced,
                "delta_unpriced": [u.__dict__ for u in self.delta_unpriced],
            },
            "models": [
                {**m.__dict__, "before": _side(m.before), "after": _side(m.after)} for m in self.models
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StackDiff:
        """The inverse of ``to_dict``: re-render a saved diff without planning again.

        Raises ValueError, KeyError, TypeError or AttributeError on a file of another shape.
        """
        cost = data["cost"]
        violations = {k: [Violation(**v) for v in data["policy"][k]] for k in ("new", "resolved")}
        for v in violations["new"] + violations["resolved"]:
            _texts(v.policy, v.level, v.message, v.urn or "", v.resource or "")
        _texts(data["stack"])
        return cls(
            stack=data["stack"],
            changes=[ResourceChange.from_dict(c) for c in data["changes"]],
            new_violations=violations["new"],
            resolved_violations=violations["resolved"],
            cost_before=CostTotals.from_dict(cost["before"]),
            cost_after=CostTotals.from_dict(cost["after"]),
            models=[ModelChange.from_dict(m) for m in data.get("models", [])],
            delta_unpriced=_unpriced_from(cost["delta_unpriced"]),
            note=data.get("note"),
        )


def _number(value: Any, *, optional: bool = False) -> float | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {value!r}")
    return value


def _texts(*values: Any) -> None:
    for value in values:
        if not isinstance(value, str):
            raise ValueError(f"expected text, got {value!r}")


def _model_cost(data: dict[str, Any]) -> ModelCost:
    return ModelCost(_number(data["low"]), _number(data["high"]), int(_number(data["unpriced"])))


def _unpriced_from(items: list[dict[str, Any]]) -> tuple[Unpriced, ...]:
    found = tuple(Unpriced(**{**u, "reasons": tuple(u["reasons"])}) for u in items)
    for u in found:
        _texts(u.type, u.region, *u.reasons)
        _number(u.count)
    return found


def _totals_dict(totals: CostTotals) -> dict[str, Any]:
    return {
        "low": totals.low,
        "high": totals.high,
        "complete": not totals.unpriced,
        "unknown": totals.unknown,
        "unpriced": [u.__dict__ for u in totals.unpriced],
    }


def _side(cost: ModelCost | None) -> dict[str, Any] | None:
    return None if cost is None else cost.__dict__
