"""What a change to the stack does: two Plans in, resource changes and deltas out (pure).

Resources match by URN, so a rename is a removal plus an addition, as Pulumi
sees it without an alias. Each changed input is reported by property path, and
a change to a create-only property marks the resource as replaced.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from infra.plan import urns
from infra.plan.cost import CostLine, CostReport, Unpriced, unpriced_groups
from infra.plan.diff_model import (
    ACTIONS,
    CostTotals,
    ModelChange,
    ModelCost,
    PropertyChange,
    ResourceChange,
    StackDiff,
)
from infra.plan.model import Plan, PlannedResource
from infra.plan.owners import PLATFORM, component_groups, model_owners
from infra.plan.policy import PolicyReport
from infra.plan.replacements import forces_replacement

__all__ = [  # the diff's shape lives in diff_model; callers may take it from here
    "ACTIONS", "CostTotals", "ModelChange", "ModelCost", "PropertyChange", "ResourceChange", "StackDiff",
    "diff_stack", "property_changes", "resource_changes",
]  # fmt: skip


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


def matches(before: Plan, after: Plan) -> dict[str, str]:
    """New plan URN -> old plan URN of the same deployed resource, as the engine would match them.

    By engine URN first (``infra.plan.urns``: the whole parent chain, which the mock's
    URNs leave out), then by a former URN an alias names, its own or its parent's.
    """
    old_real = urns.engine_urns(before.resources, before.stack, before.project)
    new_real = urns.engine_urns(after.resources, after.stack, after.project)
    old_by_real = {real: plan_urn for plan_urn, real in old_real.items()}
    formers = urns.former_urns(after.resources, new_real)
    found: dict[str, str] = {}
    claimed: set[str] = set()
    for resource in after.resources:
        candidates = [new_real[resource.urn], *sorted(formers[resource.urn] - {new_real[resource.urn]})]
        for candidate in candidates:
            if candidate in old_by_real and candidate not in claimed:
                found[resource.urn] = old_by_real[candidate]
                claimed.add(candidate)
                break
    return found


def resource_changes(before: Plan | None, after: Plan) -> list[ResourceChange]:
    pairs = matches(before, after) if before else {}
    matched_old = set(pairs.values())
    old_plan = {r.urn: r for r in (before.custom_resources if before else [])}
    # Old resources under the URN of the new one they match (a removed one may share its
    # mock URN with an unrelated new one, so removals are keyed apart).
    old = {new_urn: old_plan[old_urn] for new_urn, old_urn in pairs.items() if old_urn in old_plan}
    new = {r.urn: r for r in after.custom_resources}
    changes = {urn: ResourceChange("add", urn, r.type, r.name) for urn, r in new.items() if urn not in old}
    changes |= {
        f"removed:{urn}": ResourceChange("remove", urn, r.type, r.name)
        for urn, r in old_plan.items()
        if urn not in matched_old
    }
    for urn in old.keys() & new.keys():
        if (change := _resource_change(old[urn], new[urn])) is not None:
            changes[urn] = change
    _ripple(changes, old, new)
    plans = [plan for plan in (before, after) if plan is not None]
    owners = {urn: owner for plan in plans for urn, owner in model_owners(plan.resources).items()}
    groups = {urn: group for plan in plans for urn, group in component_groups(plan.resources).items()}
    order = {"replace": 0, "remove": 1, "add": 2, "update": 3}
    return sorted(
        (replace(c, model=owners[c.urn], component=groups[c.urn]) for c in changes.values()),
        key=lambda c: (order[c.action], c.type, c.name),
    )


def _model_changes(
    changes: list[ResourceChange], cost: tuple[CostReport | None, CostReport]
) -> list[ModelChange]:
    """One entry per model with a changed resource: added, changed or removed, with its cost."""
    counts: dict[str, dict[str, int]] = {}
    for change in changes:
        if change.model != PLATFORM:
            tally = counts.setdefault(change.model, dict.fromkeys(ACTIONS, 0))
            tally[change.action] += 1
    sides = [report.by("model") if report else {} for report in cost]
    found = []
    for name, tally in sorted(counts.items()):
        before, after = (ModelCost(*side[name]) if name in side else None for side in sides)
        status = "added" if before is None else "removed" if after is None else "changed"
        found.append(ModelChange(name, status, tally, before, after))
    return found


def _delta_unpriced(old: CostReport | None, new: CostReport, changed: set[str]) -> tuple[Unpriced, ...]:
    """Unpriced resources the change touches: changed ones, or ones whose cost basis moved.

    Only an unchanged resource, unpriced on both sides on the same basis, cancels out.
    """
    old_lines = {line.urn: line for line in old.lines} if old else {}
    new_lines = {line.urn: line for line in new.lines}
    pending: list[tuple[CostLine, str]] = []
    for urn in sorted(old_lines.keys() | new_lines.keys()):
        a, b = old_lines.get(urn), new_lines.get(urn)
        if (a is None or a.known) and (b is None or b.known):
            continue
        if urn not in changed and a and b and not a.known and not b.known and a.basis == b.basis:
            continue
        pending.append((b, new.region) if b and not b.known else (a, old.region))  # type: ignore[union-attr]
    return unpriced_groups(pending)


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
    changes = resource_changes(before, after)
    return StackDiff(
        stack=stack,
        changes=changes,
        new_violations=[v for v in new_policy.violations if v.key not in old_keys],
        resolved_violations=[
            v for v in (old_policy.violations if old_policy else []) if v.key not in new_keys
        ],
        cost_before=CostTotals.of(cost[0]),
        cost_after=CostTotals.of(cost[1]),
        models=_model_changes(changes, cost),
        delta_unpriced=_delta_unpriced(*cost, {c.urn for c in changes}),
        note=None if before else "new stack: every resource is added",
    )
