"""Which driver serves which backend: the one place the day-2 tools map a backend to code.

A new ``Backend`` needs a driver here before any command can address its models;
``tests/ops/drivers/test_registry.py`` fails until it has one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from infra.ops.drivers.base import ServingDriver
from infra.ops.drivers.eks import EksDriver
from infra.ops.drivers.sagemaker import SageMakerDriver
from infra.settings.catalog import Backend, EksModel, SageMakerModel

DRIVERS: Mapping[Backend, Callable[[], ServingDriver]] = {
    Backend.SAGEMAKER: SageMakerDriver,
    Backend.EKS: EksDriver,
}


def driver_for(model: SageMakerModel | EksModel) -> ServingDriver:
    """A new driver for the model's backend; it makes its clients for the target it is given."""
    return DRIVERS[model.backend]()
