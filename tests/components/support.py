"""What component tests share: record a component under Pulumi's mocks, with its registered outputs.

``infra.plan.record`` keeps every registration but only the stack's outputs, and
not which provider a resource was registered with. ``record_component`` listens
to the engine's calls too and keeps, by URN, what each component passed to
``register_outputs`` (as plain data, like the rest of the Plan) and each
resource's explicit provider: a Kubernetes object registered without the
cluster's provider would go to whatever cluster the local kubeconfig names.
It can also answer, per type, outputs the mocks leave out but AWS returns.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from unittest import mock

import pulumi
from pulumi.runtime import mocks, rpc

from infra.plan import Plan, pulumi_compat, record
from infra.plan.cloud import CloudMocks
from infra.plan.engine import _plain, engine_loop
from infra.plan.model import PlannedResource

ACCOUNT = "111122223333"
REGION = "eu-west-1"
TAGS = {"environment": "test", "owner": "ml-platform"}


def known(value: Any) -> pulumi.Output[Any]:
    """An input whose value is already known, as another component's output would be.

    An Output binds to the current event loop when it is made; a test that ran
    ``asyncio.run()`` earlier in the same worker leaves none, so the Output is made
    on the loop the engine runs every plan on.
    """
    asyncio.set_event_loop(engine_loop())
    return pulumi.Output.from_input(value)


@dataclass
class Recorded:
    plan: Plan
    registered: dict[str, dict[str, Any]]  # component URN -> what it passed to register_outputs
    providers: dict[str, str | None]  # resource URN -> URN of its explicit provider, if any

    def component(self, type_token: str) -> PlannedResource:
        """The one resource of ``type_token`` (the component under test)."""
        (found,) = self.plan.of_type(type_token)
        return found

    def outputs_of(self, resource: PlannedResource) -> dict[str, Any]:
        return self.registered[resource.urn]

    def provider_of(self, resource: PlannedResource) -> str | None:
        return self.providers[resource.urn]


def record_component(
    program: Callable[[], Any],
    *,
    stack: str = "test",
    region: str = REGION,
    cloud_state: Mapping[str, Mapping[str, Any]] | None = None,
) -> Recorded:
    """Run ``program`` under the offline engine's mocks.

    ``cloud_state`` adds, per type token, output properties the mocks do not make up
    but AWS returns (e.g. the security group EKS creates for a cluster), merged into
    what the mocks answer for each resource of that type.
    """
    registered: dict[str, dict[str, Any]] = {}
    providers: dict[str, str | None] = {}
    register_outputs = mocks.MockMonitor.RegisterResourceOutputs
    register = pulumi_compat.MockMonitor.RegisterResource

    def keep_outputs(monitor, request):
        registered[request.urn] = _plain(rpc.deserialize_properties(request.outputs))
        return register_outputs(monitor, request)

    def keep_provider(monitor, request):
        response = register(monitor, request)
        # A provider reference is "<provider URN>::<provider id>".
        providers[response.urn] = request.provider.rsplit("::", 1)[0] if request.provider else None
        return response

    new_resource = CloudMocks.new_resource

    def with_cloud_state(cloud, args):
        resource_id, state = new_resource(cloud, args)
        return resource_id, _merged(state, (cloud_state or {}).get(args.typ, {}))

    with (
        mock.patch.object(mocks.MockMonitor, "RegisterResourceOutputs", keep_outputs),
        mock.patch.object(pulumi_compat.MockMonitor, "RegisterResource", keep_provider),
        mock.patch.object(CloudMocks, "new_resource", with_cloud_state),
    ):
        plan = record(program, stack=stack, region=region)
    return Recorded(plan, registered, providers)


def _merged(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    result = dict(base)
    for key, value in extra.items():
        inner = result.get(key)
        result[key] = (
            _merged(inner, value) if isinstance(inner, Mapping) and isinstance(value, Mapping) else value
        )
    return result


def outside(plan: Plan, root: PlannedResource, *, except_types: Iterable[str] = ()) -> list[str]:
    """Names of resources that are neither ``root`` nor below it (test scaffolding types excepted)."""
    inside = {r.urn for r in plan.descendants(root.urn)} | {root.urn}
    skip = set(except_types)
    return sorted(f"{r.type}::{r.name}" for r in plan.resources if r.urn not in inside and r.type not in skip)


def direct_children(plan: Plan, root: PlannedResource) -> list[tuple[str, str]]:
    """(type, name) of the resources whose parent is ``root`` itself, sorted."""
    return sorted((r.type, r.name) for r in plan.children(root.urn))


def by_name(plan: Plan, type_token: str) -> dict[str, PlannedResource]:
    return {r.name: r for r in plan.of_type(type_token)}


def waits_for(plan: Plan, resource: PlannedResource, dependency: PlannedResource) -> bool:
    """Whether ``resource`` is created after ``dependency`` (a component: after all it declares)."""
    if dependency.custom:
        return dependency.urn in resource.depends_on
    inside = {r.urn for r in plan.descendants(dependency.urn) if r.custom}
    return bool(inside) and inside <= set(resource.depends_on)
