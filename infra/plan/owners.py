"""Who a planned resource belongs to: the model it serves, and the component it sits in (pure).

A resource belongs to a model when it carries the ``model`` tag, or when its
nearest enclosing component holds resources of exactly one model: an
autoscaling policy, a dashboard or a Kubernetes Deployment carries no tag, but
it sits in a component whose tagged resources all name the same model. Shared
resources (the network, the cluster) hold several models or none, and belong to
``PLATFORM``; the root component is never asked, because with a single model it
would claim the whole platform for that model. Cost per model and the per-model section of
a diff both read this, so they always agree.
"""

from __future__ import annotations

from collections.abc import Iterable

from infra.plan.model import PlannedResource

PLATFORM = "(platform)"  # what belongs to no single model
STACK = "(stack)"  # the component group of a resource right under the root component

_MANY = object()  # a component whose resources name more than one model


def model_owners(resources: Iterable[PlannedResource]) -> dict[str, str]:
    """URN -> model name, or ``PLATFORM``; linear in resources times nesting depth."""
    items = list(resources)
    parents = {r.urn: r.parent for r in items}
    held: dict[str, object] = {}  # component URN -> its single model, or _MANY
    for resource in items:
        model = resource.tags.get("model")
        if not model:
            continue
        node = resource.parent
        while node is not None and parents.get(node) is not None and held.get(node) is not _MANY:
            held[node] = model if held.get(node) in (None, model) else _MANY
            node = parents.get(node)
    owners = {}
    for resource in items:
        owner = resource.tags.get("model")
        node = resource.urn if resource.custom is False else resource.parent
        while not owner and node is not None:
            found = held.get(node)
            if found is _MANY:
                break
            owner = found if isinstance(found, str) else None
            node = parents.get(node)
        owners[resource.urn] = owner or PLATFORM
    return owners


def component_groups(resources: Iterable[PlannedResource]) -> dict[str, str]:
    """URN -> the component right under the root component: the network, a model, the cluster."""
    items = list(resources)
    by_urn = {r.urn: r for r in items}
    groups = {}
    for resource in items:
        node = resource
        while node.parent and node.parent in by_urn and by_urn[node.parent].parent:
            node = by_urn[node.parent]
        groups[resource.urn] = STACK if node is resource else node.name
    return groups
