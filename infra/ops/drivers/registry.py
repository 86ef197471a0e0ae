"""Which driver serves which backend: the one place the day-2 tools map a backend to code.

A new ``Backend`` needs a driver here before any command can address its models;
``tests/ops/drivers/test_registry.py`` fails until it has one. A model placed on a
shared endpoint is served by the inference-component driver: its record (the
stack's export) names the component, and nothing else does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from infra.ops.drivers.base import ModelTarget, ServingDriver
from infra.ops.drivers.eks import EksDriver
from infra.ops.drivers.inference_component import InferenceComponentDriver
from infra.ops.drivers.sagemaker import SageMakerDriver
from infra.settings.catalog import Backend, EksModel, SageMakerModel

DRIVERS: Mapping[Backend, Callable[[], ServingDriver]] = {
    Backend.SAGEMAKER: SageMakerDriver,
    Backend.EKS: EksDriver,
}
COMPONENT_KEY = "inference_component"  # what a placed model's record has and no other record does


def copies_packages(backend: str) -> bool:
    """Whether models of ``backend`` run the stack file's copies of a package (``registry pin``)."""
    return DRIVERS[Backend(backend)].copies_packages  # type: ignore[attr-defined]


def driver_for(model: SageMakerModel | EksModel, record: Mapping[str, Any] | None = None) -> ServingDriver:
    """A new driver for the model, from its record when given; it makes its clients for the target."""
    if record is not None and record.get(COMPONENT_KEY):
        return InferenceComponentDriver()
    return DRIVERS[model.backend]()


def driver_of(target: ModelTarget) -> ServingDriver:
    """The driver of a resolved target: the one its record chose."""
    return driver_for(target.model, {COMPONENT_KEY: target.inference_component})  # type: ignore[arg-type]
