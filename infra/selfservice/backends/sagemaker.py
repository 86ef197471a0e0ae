"""``new-model`` for a SageMaker endpoint: an instance type, and a target-tracking scaling target."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from infra.selfservice.backends.base import ModelRequest
from infra.selfservice.derive import Sizing
from infra.selfservice.prompts import Ask
from infra.settings.catalog import Backend
from infra.settings.platform import PlatformSettings


class SageMakerBackend:
    backend: ClassVar[Backend] = Backend.SAGEMAKER
    asks: ClassVar[tuple[Ask, ...]] = (Ask("instance_type", "SageMaker instance type", "ml.m5.large"),)
    own_flags: ClassVar[Mapping[str, str]] = {
        "instance_type": "applies to --backend sagemaker only (an eks model runs on its --pool)",
    }
    refused_flags: ClassVar[Mapping[str, str]] = {}
    scaling_unit: ClassVar[str] = "instances"

    def stack_problems(self, settings: PlatformSettings) -> list[str]:
        """None: an endpoint needs nothing of the stack beyond what every model needs."""
        return []

    def request_fields(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The instance type asked for (or the question's default)."""
        return {"instance_type": values.get("instance_type")}

    def placement(self, request: ModelRequest) -> dict[str, Any]:
        """``instance_type``: what each instance of the endpoint is."""
        return {"instance_type": request.instance_type}

    def scaling(self, sizing: Sizing) -> dict[str, Any]:
        """The target tracking holds invocations per instance at; SageMaker requires one."""
        return {"target_invocations_per_instance_per_minute": sizing.target_per_minute}

    def block(self, request: ModelRequest, sizing: Sizing) -> dict[str, Any]:
        """None: an endpoint's keys are all above."""
        return {}

    def sizing_note(self, sizing: Sizing) -> str:
        """The scaling target, the number a reviewer checks against the load test."""
        return f", target {sizing.target_per_minute} invocations/instance/min"
