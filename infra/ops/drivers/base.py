"""The one interface between the day-2 commands and whatever serves a model, and what it answers.

``rollout``, ``promote`` and ``smoke`` decide (steps, gates, edits); a driver only
reads and changes the serving platform: the traffic split, its readiness, the
rollout's progress record, the alarms and metrics, one sample request. Each
backend has one driver (``infra.ops.drivers.registry``). A capability a backend
has no code for yet raises ``NotSupportedYet`` naming it, never a guess.

Nothing here talks to AWS: the drivers do, each in its own module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol

from infra.ops.clock import Clock
from infra.ops.errors import InvalidInput
from infra.ops.gates import VariantMetrics
from infra.ops.progress import Progress
from infra.settings.catalog import Backend, ModelBase, RolloutSettings

STABLE, CANARY = "stable", "canary"
PromotePhase = Literal["shift", "remove"]


@dataclass(frozen=True)
class ModelTarget:
    """One catalog model of one stack, and the names it is served under, from the stack's record."""

    stack: str
    region: str
    model: ModelBase
    endpoint_name: str  # what serves the model: a SageMaker endpoint, or an EKS model's load balancer
    variants: tuple[str, ...]
    alarm_names: tuple[str, ...]
    stack_file: Path
    inference_component: str | None = None  # a placed model's component on the shared endpoint above

    @property
    def rollout(self) -> RolloutSettings:
        return self.model.rollout

    @property
    def has_canary(self) -> bool:
        return CANARY in self.variants

    def require_variant(self, variant: str | None) -> None:
        if variant is not None and variant not in self.variants:
            raise InvalidInput(
                f"model '{self.model.name}' has no variant '{variant}' (variants: {', '.join(self.variants)})"
            )


@dataclass(frozen=True)
class EndpointState:
    """Where the split stands and whether what serves the model can take a change now."""

    name: str
    status: str
    weights: dict[str, float]  # the desired weight per variant: where the split is heading
    instances: dict[str, int]
    guardrail_in_progress: bool  # a blue/green deployment (pulumi up) is replacing the fleet
    failure_reason: str | None = None
    arn: str = ""  # where the rollout's progress record is kept
    config_name: str = ""  # the deployed configuration: a new one (pulumi up) resets the weights

    def canary_percent(self) -> float:
        """The canary's share of traffic in percent (weights are relative)."""
        total = sum(self.weights.values())
        return 100.0 * self.weights.get(CANARY, 0.0) / total if total > 0 else 0.0


@dataclass(frozen=True)
class GateReadings:
    """What ``gates.evaluate`` judges a bake by: alarms, and each variant's metrics over the bake."""

    firing: list[str]
    missing: list[str]
    metrics: Mapping[str, VariantMetrics]


@dataclass(frozen=True)
class SmokeResult:
    variant: str | None  # the variant asked for; None lets the backend pick by weight
    status: int
    latency_ms: float
    invoked_variant: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class NotSupportedYet(InvalidInput):
    """A capability the model's backend has no driver code for yet: exit 2, nothing touched."""

    def __init__(self, model: str, backend: Backend, capability: str, until: str):
        super().__init__(
            f"model '{model}' is served by {backend}: {capability} is not supported for {backend} "
            f"models yet ({until})"
        )
        self.capability = capability


class ServingDriver(Protocol):
    """What the day-2 commands ask of the platform serving a model; one implementation per backend."""

    backend: ClassVar[Backend]
    gate_source: ClassVar[str]  # where the gates are read from, named when they cannot be read
    # Whether the backend runs copies of a package's artifact and image from the stack file
    # (``modelfleet registry pin`` writes them) rather than the package itself.
    copies_packages: ClassVar[bool]

    def resolve(
        self,
        stack: str,
        region: str,
        model: ModelBase,
        record: Mapping[str, Any],
        stack_file: Path,
        capability: str,
    ) -> ModelTarget:
        """The target from the record the stack exports, so the names are the stack's by construction."""
        ...

    def wait_in_service(
        self, target: ModelTarget, timeout_seconds: float, clock: Clock, poll_seconds: float
    ) -> EndpointState:
        """The state once it can take a change: a split moved during an update is refused or lost."""
        ...

    def read_weights(self, target: ModelTarget) -> EndpointState:
        """The split now: a rerun resumes from it, and a split moved by anyone else stops a rollout."""
        ...

    def set_weights(self, target: ModelTarget, canary_percent: float) -> dict[str, float]:
        """Move the split: the one change a rollout step, a rollback and an abort make."""
        ...

    def read_progress(self, target: ModelTarget, state: EndpointState) -> Progress | None:
        """The rollout's record for the deployed configuration: weights cannot tell a bake finished."""
        ...

    def write_progress(self, target: ModelTarget, state: EndpointState, record: Progress) -> None:
        """Replace that record, so a rerun, or a rollout running elsewhere, knows where this run is."""
        ...

    def read_alarms(self, target: ModelTarget, names: Sequence[str]) -> tuple[list[str], list[str]]:
        """(in ALARM, not found) among ``names``: a canary with either cannot be judged, so not started."""
        ...

    def read_gates(
        self, target: ModelTarget, names: Sequence[str], since: float, until: float
    ) -> GateReadings:
        """Alarms and stable's and the canary's metrics over [since, until]: what a bake is judged by."""
        ...

    def smoke(self, target: ModelTarget, variant: str | None) -> SmokeResult:
        """One real request with the catalog's sample: a canary that cannot answer one gets no traffic."""
        ...

    def promotion_problem(self, target: ModelTarget, phase: PromotePhase) -> str | None:
        """Why the live deployment is not ready for this promote edit, if it is not (pulumi up deploys it)."""
        ...

    def registry_refusal(self, target: ModelTarget) -> str | None:
        """Why the model's registry versions must not get traffic: one not Approved (None: all are)."""
        ...
