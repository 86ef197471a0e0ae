"""Offline plan engine: run the program under mocks and get a ``Plan``.

from infra.plan import plan_stack
plan = plan_stack("prod")
plan.of_type("aws:ec2/natGateway:NatGateway")

The names below load on first use, so that importing a module of this package
(``infra.plan.cost``, ``infra.plan.diff``) does not import Pulumi with the engine.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from infra.plan.engine import PlanError, plan_stack, record
    from infra.plan.model import Plan, PlannedInvoke, PlannedResource

__all__ = ["Plan", "PlanError", "PlannedInvoke", "PlannedResource", "plan_stack", "record"]
_HOMES = {
    "PlanError": "infra.plan.engine", "plan_stack": "infra.plan.engine", "record": "infra.plan.engine",
    "Plan": "infra.plan.model", "PlannedInvoke": "infra.plan.model", "PlannedResource": "infra.plan.model",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
