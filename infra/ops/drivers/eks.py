"""The EKS driver: no day-2 capability yet, and each one says so under its own name.

An EKS model's record names its namespace, load balancer and alarms, but its
traffic split, readiness and invocations have no driver code yet. Each capability
refuses with ``NotSupportedYet`` (exit 2, nothing touched) rather than reach for a
SageMaker endpoint that does not exist; the commands ask ``resolve`` first, so an
operator reads the command's own capability in the refusal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, NoReturn

from infra.ops.clock import Clock
from infra.ops.drivers.base import (
    EndpointState,
    GateReadings,
    ModelTarget,
    NotSupportedYet,
    PromotePhase,
    SmokeResult,
)
from infra.ops.progress import Progress
from infra.settings.catalog import Backend, ModelBase

UNTIL = "EKS support in the day-2 tools comes with the model-lifecycle work"


def _refuse(model: ModelBase, capability: str) -> NoReturn:
    raise NotSupportedYet(model.name, Backend.EKS, capability, UNTIL)


class EksDriver:
    backend: ClassVar[Backend] = Backend.EKS
    gate_source: ClassVar[str] = "CloudWatch"  # the load balancer's alarms, once gates are read

    def resolve(
        self,
        stack: str,
        region: str,
        model: ModelBase,
        record: Mapping[str, Any],
        stack_file: Path,
        capability: str,
    ) -> ModelTarget:
        """Refused with the command's capability: no EKS command can act on a model yet."""
        _refuse(model, capability)

    def wait_in_service(
        self, target: ModelTarget, timeout_seconds: float, clock: Clock, poll_seconds: float
    ) -> EndpointState:
        """Refused: the readiness of an EKS model's Deployments is not read yet."""
        _refuse(target.model, "waiting until the model is in service")

    def read_weights(self, target: ModelTarget) -> EndpointState:
        """Refused: an EKS model's traffic split is not read yet."""
        _refuse(target.model, "reading the traffic split")

    def set_weights(self, target: ModelTarget, canary_percent: float) -> dict[str, float]:
        """Refused: an EKS model's traffic split is not moved yet."""
        _refuse(target.model, "moving the traffic split")

    def read_progress(self, target: ModelTarget, state: EndpointState) -> Progress | None:
        """Refused: an EKS model has no place for a rollout's record yet."""
        _refuse(target.model, "reading a rollout's progress")

    def write_progress(self, target: ModelTarget, state: EndpointState, record: Progress) -> None:
        """Refused: an EKS model has no place for a rollout's record yet."""
        _refuse(target.model, "recording a rollout's progress")

    def read_alarms(self, target: ModelTarget, names: Sequence[str]) -> tuple[list[str], list[str]]:
        """Refused: an EKS model's alarms are not read by the day-2 tools yet."""
        _refuse(target.model, "reading the model's alarms")

    def read_gates(
        self, target: ModelTarget, names: Sequence[str], since: float, until: float
    ) -> GateReadings:
        """Refused: an EKS model's per-variant metrics are not read yet."""
        _refuse(target.model, "reading the rollout gates")

    def smoke(self, target: ModelTarget, variant: str | None) -> SmokeResult:
        """Refused: an EKS model's invoke URL is known only once deployed, not from the stack file."""
        _refuse(target.model, "smoke test")

    def promotion_problem(self, target: ModelTarget, phase: PromotePhase) -> str | None:
        """Refused: the two promote edits are SageMaker's; an EKS model's are not worked out yet."""
        _refuse(target.model, "checking the live model before a promote edit")
