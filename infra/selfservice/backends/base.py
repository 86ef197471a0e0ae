"""The request ``new-model`` builds, and what it asks of the model's backend to finish it.

Shared code (``new_model``, ``entries``) asks every question, checks every flag and
sizes every model the same way; a backend adds only what is its own: questions,
flags, a check of the stack, and its keys of the catalog entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from infra.selfservice.derive import Sizing
from infra.selfservice.prompts import Ask
from infra.settings.catalog import Backend
from infra.settings.platform import PlatformSettings


@dataclass(frozen=True)
class ModelRequest:
    """A new model as asked for: flags, prompts or template answers."""

    name: str
    team: str
    backend: str  # sagemaker | eks
    artifact: str  # s3:// URI of model.tar.gz
    p99_ms: int
    peak_rps: float
    image: str | None = None  # ECR image by digest
    framework: str | None = None  # "<name>:<version>", an AWS Deep Learning Container
    py_version: str | None = None
    instance_type: str | None = None  # sagemaker only
    error_rate_percent: float = 1.0
    pool: str | None = None  # eks only: the GPU pool
    gpus: int = 1  # eks only: GPUs per replica


class ModelBackend(Protocol):
    """What ``new-model`` asks of one backend; ``registry.BACKENDS`` has one per ``Backend``."""

    backend: ClassVar[Backend]
    asks: ClassVar[tuple[Ask, ...]]  # asked for this backend only, after the common questions
    own_flags: ClassVar[Mapping[str, str]]  # flags only this backend takes -> why the others refuse them
    refused_flags: ClassVar[Mapping[str, str]]  # flags this backend refuses -> why
    scaling_unit: ClassVar[str]  # what its autoscaling counts, as new-model prints it

    def stack_problems(self, settings: PlatformSettings) -> list[str]:
        """Why the stack cannot take a model of this backend: refused before anything is derived."""
        ...

    def request_fields(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The request fields only this backend reads, so another backend's value never reaches it."""
        ...

    def placement(self, request: ModelRequest) -> dict[str, Any]:
        """The entry's keys saying what the model runs on, written after its image."""
        ...

    def scaling(self, sizing: Sizing) -> dict[str, Any]:
        """Autoscaling keys beyond the bounds every backend has."""
        ...

    def block(self, request: ModelRequest, sizing: Sizing) -> dict[str, Any]:
        """The backend's own block of the entry, written last (mappings in flow style)."""
        ...

    def sizing_note(self, sizing: Sizing) -> str:
        """What the printed autoscaling line adds for this backend (its scaling target), or nothing."""
        ...
