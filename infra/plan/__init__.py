"""Offline plan engine: run the program under mocks and get a ``Plan``.

from infra.plan import plan_stack
plan = plan_stack("prod")
plan.of_type("aws:ec2/natGateway:NatGateway")
"""

from infra.plan.engine import PlanError, plan_stack, record
from infra.plan.model import Plan, PlannedInvoke, PlannedResource

__all__ = ["Plan", "PlanError", "PlannedInvoke", "PlannedResource", "plan_stack", "record"]
