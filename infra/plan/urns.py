"""Resource URNs as the Pulumi engine forms them, and the former URNs aliases give (pure).

The engine names a resource ``urn:pulumi:<stack>::<project>::<qualified type>::<name>``,
where the qualified type is the parent's whole type chain, ``$``, and the resource's
type (nothing for a child of the stack itself). The SDK's mock monitor keeps only
the parent's last type, so moving a resource under a new component would go
unnoticed offline; the diff matches resources by these URNs instead, as a real
``pulumi up`` would, and by the former URNs their aliases name.

Aliases are inherited: when a component has a former URN, each of its children
has one too, under that former parent (the engine derives these; so do we).
"""

from __future__ import annotations

from collections.abc import Iterable

from infra.plan.model import PlannedResource


def urn(stack: str, project: str, parent_urn: str | None, type_: str, name: str) -> str:
    """The URN the engine gives ``type_``/``name`` under the resource ``parent_urn`` (None: the stack)."""
    prefix = f"urn:pulumi:{stack}::{project}::"
    if parent_urn:
        prefix = parent_urn[: parent_urn.rindex("::")] + "$"
    return f"{prefix}{type_}::{name}"


def _name(urn_: str) -> str:
    return urn_[urn_.rindex("::") + 2 :]


def _type(urn_: str) -> str:
    return urn_[: urn_.rindex("::")].rsplit("::", maxsplit=1)[-1].rsplit("$", maxsplit=1)[-1]


def engine_urns(resources: Iterable[PlannedResource], stack: str, project: str) -> dict[str, str]:
    """Plan URN -> engine URN, for every resource (parents are recorded before their children)."""
    items = list(resources)
    by_urn = {r.urn: r for r in items}
    found: dict[str, str] = {}

    def real(resource: PlannedResource) -> str:
        if resource.urn not in found:
            parent = by_urn.get(resource.parent) if resource.parent else None
            above = real(parent) if parent else None
            found[resource.urn] = urn(stack, project, above, resource.type, resource.name)
        return found[resource.urn]

    for resource in items:
        real(resource)
    return found


def former_urns(resources: Iterable[PlannedResource], real: dict[str, str]) -> dict[str, set[str]]:
    """Plan URN -> the engine URNs the resource answers to: its own, its aliases, and inherited ones."""
    items = list(resources)
    by_urn = {r.urn: r for r in items}
    found: dict[str, set[str]] = {}

    def former(resource: PlannedResource) -> set[str]:
        if resource.urn not in found:
            own = {real[resource.urn], *resource.aliases}
            parent = by_urn.get(resource.parent) if resource.parent else None
            if parent is not None:
                identities = set(own)
                for old_parent in former(parent) - {real[parent.urn]}:
                    own |= {urn("", "", old_parent, _type(u), _name(u)) for u in identities}
            found[resource.urn] = own
        return found[resource.urn]

    for resource in items:
        former(resource)
    return found
