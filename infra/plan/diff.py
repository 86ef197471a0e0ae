"""What a change to the stack does: two Plans in, resource changes and deltas out (pure).

Resources match by URN, so a rename is a removal plus an addition, as Pulumi
sees it without an alias. Each changed input is reported by property path, and
a change to a create-only property marks the resource as replaced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from infra.plan.cost import CostReport
from infra.plan.model import Plan, PlannedResource
from infra.plan.policy import PolicyReport, Violation
from infra.plan.replacements import forces_replacement


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


@dataclass(frozen=True)
class CostTotals:
    low: float | None  # None: unknown (the region has no price table)
    high: float | None
    unknown: int

    @classmethod
    def of(cls, report: CostReport | None) -> CostTotals:
        if report is None:
            return cls(0.0, 0.0, 0)
        low, high = report.totals
        return cls(low, high, len(report.unknown))


@dataclass(frozen=True)
class StackDiff:
    stack: str
    changes: list[ResourceChange]
    new_violations: list[Violation]
    resolved_violations: list[Violation]
    cost_before: CostTotals
    cost_after: CostTotals
    model_costs: dict[str, tuple[float, float]] = field(
        default_factory=dict
    )  # model -> (max before, max after)
    note: str | None = None  # e.g. "new stack: nothing to compare against"

    def count(self, action: str) -> int:
        return sum(1 for change in self.changes if change.action == action)

    def to_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "note": self.note,
            "counts": {a: self.count(a) for a in ("add", "update", "replace", "remove")},
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
            "cost": {"before": self.cost_before.__dict__, "after": self.cost_after.__dict__},
            "model_costs": self.model_costs,
        }


def property_changes(old: Any, new: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """Leaf-level differences between two input trees, as (path, old, new)."""
    if isinstance(old, dict) and isinstance(new, dict):
        found = []
        for key in sorted(set(old) | set(new), key=str):
            child = f"{path}.{key}" if path else str(key)
            found += property_changes(old.get(key), new.get(key), child)
        return found
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [
            c
            for i, (a, b) in enumerate(zip(old, new, strict=True))
            for c in property_changes(a, b, f"{path}[{i}]")
        ]
    return [] if old == new else [(path, old, new)]


def _resource_change(before: PlannedResource, after: PlannedResource) -> ResourceChange | None:
    changes = [
        PropertyChange(path, old, new, forces_replacement(after.type, path))
        for path, old, new in property_changes(before.inputs, after.inputs)
    ]
    if not changes:
        return None
    action = "replace" if any(c.replaces for c in changes) else "update"
    return ResourceChange(action, after.urn, after.type, after.name, changes)


def _identities(resource: PlannedResource) -> set[str]:
    """The values other resources use to refer to this one: its id, ARN and name."""
    values = [resource.id, *(resource.outputs.get(k) for k in ("id", "arn", "name"))]
    return {v for v in values if isinstance(v, str) and len(v) >= 8}


def _references(value: Any, wanted: set[str], path: str = "") -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [
            hit for k, v in value.items() for hit in _references(v, wanted, f"{path}.{k}" if path else str(k))
        ]
    if isinstance(value, list):
        return [hit for i, v in enumerate(value) for hit in _references(v, wanted, f"{path}[{i}]")]
    return [(path, value)] if isinstance(value, str) and value in wanted else []


def _ripple(changes: dict[str, ResourceChange], old: dict, new: dict) -> None:
    """Resources that refer to a replaced one change too: the replacement gets a new id or name.

    The offline engine names resources by URN, so it cannot see this by itself;
    repeat until nothing new is found (a replaced Model replaces its endpoint
    configuration, which updates the endpoint).
    """
    done: set[str] = set()
    while pending := [urn for urn, c in changes.items() if c.action == "replace" and urn not in done]:
        for urn in pending:
            done.add(urn)
            wanted = _identities(old[urn])
            for other in new.values():
                if (
                    other.urn in changes and changes[other.urn].action in ("add", "replace")
                ) or other.urn == urn:
                    continue
                hits = _references(other.inputs, wanted)
                if not hits:
                    continue
                marker = f"<new value once {new[urn].name} is replaced>"
                extra = [
                    PropertyChange(path, value, marker, forces_replacement(other.type, path))
                    for path, value in hits
                ]
                current = changes.get(other.urn)
                properties = (current.properties if current else []) + extra
                action = "replace" if any(p.replaces for p in properties) else "update"
                changes[other.urn] = ResourceChange(action, other.urn, other.type, other.name, properties)


def resource_changes(before: Plan | None, after: Plan) -> list[ResourceChange]:
    old = {r.urn: r for r in (before.custom_resources if before else [])}
    new = {r.urn: r for r in after.custom_resources}
    changes = {urn: ResourceChange("add", urn, r.type, r.name) for urn, r in new.items() if urn not in old}
    changes |= {
        urn: ResourceChange("remove", urn, r.type, r.name) for urn, r in old.items() if urn not in new
    }
    for urn in old.keys() & new.keys():
        if (change := _resource_change(old[urn], new[urn])) is not None:
            changes[urn] = change
    _ripple(changes, old, new)
    order = {"replace": 0, "remove": 1, "add": 2, "update": 3}
    return sorted(changes.values(), key=lambda c: (order[c.action], c.type, c.name))


def diff_stack(
    stack: str,
    before: Plan | None,
    after: Plan,
    policy: tuple[PolicyReport | None, PolicyReport],
    cost: tuple[CostReport | None, CostReport],
) -> StackDiff:
    old_policy, new_policy = policy
    old_keys = {v.key for v in old_policy.violations} if old_policy else set()
    new_keys = {v.key for v in new_policy.violations}
    old_models = cost[0].by("model") if cost[0] else {}
    new_models = cost[1].by("model")
    models = {
        name: (old_models.get(name, (0, 0, 0))[1], new_models.get(name, (0, 0, 0))[1])
        for name in sorted(set(old_models) | set(new_models))
    }
    return StackDiff(
        stack=stack,
        changes=resource_changes(before, after),
        new_violations=[v for v in new_policy.violations if v.key not in old_keys],
        resolved_violations=[
            v for v in (old_policy.violations if old_policy else []) if v.key not in new_keys
        ],
        cost_before=CostTotals.of(cost[0]),
        cost_after=CostTotals.of(cost[1]),
        model_costs={k: v for k, v in models.items() if round(v[0], 2) != round(v[1], 2)},
        note=None if before else "new stack: every resource is added",
    )
