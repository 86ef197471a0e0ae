"""One driver per backend, each the whole interface, and the commands reach AWS only through one."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from infra.ops.drivers.base import ServingDriver
from infra.ops.drivers.inference_component import InferenceComponentDriver
from infra.ops.drivers.registry import DRIVERS, driver_for
from infra.settings.catalog import Backend
from infra.settings.platform import load_settings
from infra.specs.model_record import model_record
from infra.stackfiles.read import read_project, read_stack_config
from tests.conftest import ROOT, SHIPPED_STACKS

OPS = ROOT / "infra" / "ops"
INTERFACE = {
    name: inspect.signature(member)
    for name, member in vars(ServingDriver).items()
    if inspect.isfunction(member) and not name.startswith("_")
}
# What talks to SageMaker and CloudWatch, and boto3 itself: the drivers', and no one else's.
AWS_MODULES = {"infra.ops.endpoints", "infra.ops.signals", "infra.ops.clients"}


def test_every_backend_has_a_driver_and_it_says_which():
    assert set(DRIVERS) == set(Backend)
    assert all(DRIVERS[backend]().backend is backend for backend in Backend)


@pytest.mark.parametrize("make", [*(DRIVERS[b] for b in Backend), InferenceComponentDriver])
def test_each_driver_has_every_capability_with_the_interfaces_parameters(make):
    driver = make()
    assert INTERFACE, "the interface lost its methods"
    for name, signature in INTERFACE.items():
        method = getattr(type(driver), name, None)
        assert method is not None, f"{type(driver).__name__} lacks {name}"
        assert list(inspect.signature(method).parameters) == list(signature.parameters), name
        assert (method.__doc__ or "").strip(), f"{type(driver).__name__}.{name} says nothing about why"
    assert isinstance(driver.gate_source, str) and driver.gate_source


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_every_shipped_model_gets_its_backends_driver(stack):
    project = read_project(ROOT)
    settings = load_settings(stack, read_stack_config(project, project.stack_file(stack)).values)
    for model in settings.models:
        assert driver_for(model).backend == model.backend


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_a_placed_model_gets_the_inference_component_driver_from_its_record(stack):
    project = read_project(ROOT)
    settings = load_settings(stack, read_stack_config(project, project.stack_file(stack)).values)
    for model in settings.models:
        record = model_record(stack, settings.region, model)
        placed = "inference_component" in record
        assert isinstance(driver_for(model, record), InferenceComponentDriver) is placed, model.name


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


def test_commands_reach_aws_only_through_the_drivers():
    importers = {
        str(path.relative_to(ROOT)): sorted(_imports(path) & (AWS_MODULES | {"boto3"}))
        for path in sorted(OPS.rglob("*.py"))
    }
    found = {path: names for path, names in importers.items() if names}
    assert found == {
        "infra/ops/clients.py": ["boto3"],
        "infra/ops/drivers/eks.py": ["infra.ops.clients", "infra.ops.signals"],
        "infra/ops/drivers/inference_component.py": ["infra.ops.clients", "infra.ops.signals"],
        "infra/ops/drivers/sagemaker.py": ["infra.ops.clients", "infra.ops.endpoints", "infra.ops.signals"],
        # Drift reads the capture bucket and writes its own metrics: no endpoint, the same for every
        # backend, so no driver. It takes S3 and CloudWatch clients, never SageMaker's.
        "infra/ops/drift/cli.py": ["infra.ops.clients"],
        "infra/ops/drift/job.py": ["infra.ops.clients"],
        # The stack's rollout history: CloudWatch Logs and STS, the same whichever backend serves the model.
        "infra/ops/history.py": ["infra.ops.clients"],
        # registry pin asks SageMaker's model registry, the same for every backend: no endpoint.
        "infra/ops/registry_cli.py": ["infra.ops.clients"],
    }
