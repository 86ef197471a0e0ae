"""``new-model`` for the EKS cluster: a GPU pool and GPUs per replica, and a disruption budget."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from infra.selfservice.backends.base import ModelRequest
from infra.selfservice.derive import Sizing
from infra.selfservice.prompts import Ask
from infra.settings.catalog import Backend
from infra.settings.platform import PlatformSettings

ONLY_EKS = "applies to --backend eks only"


class EksBackend:
    backend: ClassVar[Backend] = Backend.EKS
    asks: ClassVar[tuple[Ask, ...]] = ()  # the pool defaults to the stack's first
    own_flags: ClassVar[Mapping[str, str]] = {"pool": ONLY_EKS, "gpus": ONLY_EKS}
    refused_flags: ClassVar[Mapping[str, str]] = {
        "framework": "backend eks serves an image by digest: pass --image, not --framework",
    }
    scaling_unit: ClassVar[str] = "replicas"

    def stack_problems(self, settings: PlatformSettings) -> list[str]:
        """A stack without a GPU pool has nowhere to run the model."""
        if settings.gpu_pools:
            return []
        return [f"stack '{settings.environment}' has no GPU pool: backend eks needs one"]

    def request_fields(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """None beyond every model's: the pool and GPUs are read for every backend (GPUs size replicas)."""
        return {}

    def placement(self, request: ModelRequest) -> dict[str, Any]:
        """None here: the pool goes in the ``eks`` block."""
        return {}

    def scaling(self, sizing: Sizing) -> dict[str, Any]:
        """None: replicas scale on CPU and requests in flight (the ``eks`` block's defaults)."""
        return {}

    def block(self, request: ModelRequest, sizing: Sizing) -> dict[str, Any]:
        """``eks``: the pool, GPUs per replica, and a disruption budget that lets nodes drain."""
        # A PDB that keeps every replica would block node drains: keep one fewer than the floor.
        pdb_min_available = min(1, sizing.min_instances - 1)
        return {"eks": {"pool": request.pool, "gpus": request.gpus, "pdb_min_available": pdb_min_available}}

    def sizing_note(self, sizing: Sizing) -> str:
        """Nothing: there is no scaling target to show."""
        return ""
