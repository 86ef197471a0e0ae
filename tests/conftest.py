"""Shared fixtures: a valid config to break, and plans of the shipped stacks."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest

from infra.plan import Plan, plan_stack

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_STACKS = ("dev", "staging", "prod")


def valid_config() -> dict[str, Any]:
    """A complete, valid stack config map, as decoded objects."""
    return copy.deepcopy(
        {
            "aws:region": "eu-west-1",
            "modelfleet:tier": "prod",
            "modelfleet:owner": "ml-platform",
            "modelfleet:cost_center": "CC-1",
            "modelfleet:network": {"cidr": "10.30.0.0/16"},
        }
    )


@pytest.fixture(scope="session")
def shipped_plans() -> dict[str, Plan]:
    return {stack: plan_stack(stack, root=ROOT) for stack in SHIPPED_STACKS}


def copy_project(target: Path) -> Path:
    """Pulumi.yaml and stacks/ copied into ``target``: a project that tests may edit."""
    shutil.copy(ROOT / "Pulumi.yaml", target / "Pulumi.yaml")
    shutil.copytree(ROOT / "stacks", target / "stacks")
    return target
