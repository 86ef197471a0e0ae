"""The inference-component driver: a model placed on a shared SageMaker endpoint, through boto3.

A placed model has no variants of its own: SageMaker routes each request to its
component by name and splits no traffic, so a new version replaces the copies
by a rolling update (``UpdateInferenceComponent``) that SageMaker itself rolls
back when one of the model's rollback alarms fires. This driver reads the
component (``DescribeInferenceComponent``), starts that update, forces its
rollback (``SetAlarmState`` on a rollback alarm), reads the gates with the
``InferenceComponentName`` dimension and sends one request to the component.
The decisions are ``infra.ops.component_rollout``'s. The capabilities of a
traffic split refuse, naming the rolling update instead.

Clients are made for the target's region on first use, unless given (the tests
give a fake SageMaker client checked against botocore's model, and moto's CloudWatch).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, NoReturn, cast

from botocore.exceptions import ClientError

from infra.contracts import runtimes
from infra.ops import registry_gate, signals, smoke
from infra.ops.clients import client
from infra.ops.clock import Clock
from infra.ops.drivers.base import (
    EndpointState,
    GateReadings,
    ModelTarget,
    PromotePhase,
    SmokeResult,
)
from infra.ops.drivers.sagemaker import invoke_once
from infra.ops.drivers.sagemaker import regional_client as sagemaker_client
from infra.ops.errors import InvalidInput, OpsError
from infra.ops.progress import Progress
from infra.settings.catalog import Backend, ModelBase, SageMakerModel
from infra.specs import component_api, component_specs
from infra.specs.component_specs import ComponentSpec

UPDATING, IN_SERVICE, FAILED = "Updating", "InService", "Failed"


@dataclass(frozen=True)
class ComponentState:
    """One ``DescribeInferenceComponent`` reading."""

    name: str
    status: str  # InService, Creating, Updating, Failed, Deleting
    specification: dict[str, Any]  # the live version, in ``component_api.specification``'s shape
    desired_copies: int
    current_copies: int
    failure_reason: str | None = None
    rollback_alarms: tuple[str, ...] = ()  # the last deployment's, as SageMaker watches them

    @property
    def updating(self) -> bool:
        return self.status == UPDATING


def state_from(described: Mapping[str, Any]) -> ComponentState:
    """A ``ComponentState`` from a ``describe_inference_component`` response (pure)."""
    runtime = described.get("RuntimeConfig") or {}
    last = (described.get("LastDeploymentConfig") or {}).get("AutoRollbackConfiguration") or {}
    return ComponentState(
        name=described["InferenceComponentName"],
        status=described["InferenceComponentStatus"],
        specification=component_api.live_specification(described.get("Specification") or {}),
        desired_copies=int(runtime.get("DesiredCopyCount") or 0),
        current_copies=int(runtime.get("CurrentCopyCount") or 0),
        failure_reason=described.get("FailureReason") or None,
        rollback_alarms=tuple(alarm["AlarmName"] for alarm in last.get("Alarms", [])),
    )


def component_spec(target: ModelTarget) -> ComponentSpec:
    """The stack file's component for the target: the version, reservation and rolling update."""
    # resolve() made the target from a placed model's record: a SageMaker model with a component.
    return component_specs.component_spec(target.stack, cast(SageMakerModel, target.model))


@dataclass
class InferenceComponentDriver:
    clients: dict[str, Any] = field(default_factory=dict)  # boto3 clients by service name

    backend: ClassVar[Backend] = Backend.SAGEMAKER
    gate_source: ClassVar[str] = "CloudWatch"
    copies_packages: ClassVar[bool] = False  # SageMaker reads the package itself

    def _aws(self, service: str, target: ModelTarget) -> Any:
        if service not in self.clients:
            self.clients[service] = sagemaker_client(service, target.region)
        return self.clients[service]

    def resolve(
        self,
        stack: str,
        region: str,
        model: ModelBase,
        record: Mapping[str, Any],
        stack_file: Path,
        capability: str,
    ) -> ModelTarget:
        """The shared endpoint, the model's component and its alarms, by the names the stack gives them."""
        return ModelTarget(
            stack=stack,
            region=region,
            model=model,
            endpoint_name=record["endpoint_name"],
            variants=tuple(record["variants"]),
            alarm_names=tuple(record["alarm_names"]),
            stack_file=stack_file,
            inference_component=record["inference_component"],
        )

    # What only a component has: its version, its rolling update, and that update's rollback.

    def describe(self, target: ModelTarget) -> ComponentState:
        """``DescribeInferenceComponent``: status, live specification, copies, last deployment."""
        name = target.inference_component or ""
        try:
            described = self._aws("sagemaker", target).describe_inference_component(
                InferenceComponentName=name
            )
        except ClientError as error:
            message = error.response.get("Error", {}).get("Message", "")
            if "Could not find" in message:
                raise OpsError(
                    f"inference component {name} does not exist on {target.endpoint_name}: "
                    "deploy the stack first"
                ) from None
            raise
        return state_from(described)

    def update(self, target: ModelTarget, request: Mapping[str, Any]) -> None:
        """``UpdateInferenceComponent``: SageMaker starts the rolling update and owns it from there."""
        self._aws("sagemaker", target).update_inference_component(**request)

    def force_rollback(self, target: ModelTarget, alarm: str, reason: str) -> None:
        """``SetAlarmState`` ALARM on a rollback alarm: SageMaker then rolls the running update back."""
        signals.force_alarm(self._aws("cloudwatch", target), alarm, reason)

    # The interface every driver has.

    def wait_in_service(
        self, target: ModelTarget, timeout_seconds: float, clock: Clock, poll_seconds: float
    ) -> EndpointState:
        """Refused: an endpoint's state is about its split; a component's is read by ``describe``."""
        _no_split(target, "waiting for its traffic split")

    def read_weights(self, target: ModelTarget) -> EndpointState:
        """Refused: SageMaker routes each request to one component and splits no traffic."""
        _no_split(target, "reading a traffic split")

    def set_weights(self, target: ModelTarget, canary_percent: float) -> dict[str, float]:
        """Refused: a component's copies all run one version; a rolling update replaces them."""
        _no_split(target, "moving a traffic split")

    def read_progress(self, target: ModelTarget, state: EndpointState) -> Progress | None:
        """Refused: a rolling update's progress is SageMaker's (status and copy counts), not a tag."""
        _no_split(target, "reading a canary rollout's progress")

    def write_progress(self, target: ModelTarget, state: EndpointState, record: Progress) -> None:
        """Refused: a rolling update's progress is SageMaker's (status and copy counts), not a tag."""
        _no_split(target, "recording a canary rollout's progress")

    def read_alarms(self, target: ModelTarget, names: Sequence[str]) -> tuple[list[str], list[str]]:
        """``DescribeAlarms`` in batches: the names in ALARM and the names not found."""
        return signals.alarm_states(self._aws("cloudwatch", target), names)

    def read_gates(
        self, target: ModelTarget, names: Sequence[str], since: float, until: float
    ) -> GateReadings:
        """The alarms, then the component's metrics over the window, keyed by the component's name."""
        cloudwatch = self._aws("cloudwatch", target)
        firing, missing = signals.alarm_states(cloudwatch, names)
        name = target.inference_component or ""
        return GateReadings(
            firing, missing, {name: signals.component_metrics(cloudwatch, name, since, until)}
        )

    def smoke(self, target: ModelTarget, variant: str | None) -> SmokeResult:
        """One ``InvokeEndpoint`` naming the component: a chat completion for vLLM, else the sample."""
        if variant is not None:
            raise InvalidInput(
                f"model '{target.model.name}' runs as inference component {target.inference_component}: "
                "it has no variants to pick (leave --variant out)"
            )
        chat = target.model.runtime in runtimes.SAGEMAKER_LLM_CONTAINERS
        settings = target.rollout
        payload = smoke.chat_payload() if chat else smoke.sample_payload(target, None)
        content_type = "application/json" if chat else settings.sample_content_type
        accept = "application/json" if chat else settings.sample_accept
        request = {
            "EndpointName": target.endpoint_name,
            "InferenceComponentName": target.inference_component,
            "Body": payload.encode(),
            "ContentType": content_type,
            "Accept": accept,
        }
        answer = invoke_once(self._aws("sagemaker-runtime", target), request)
        if answer.problem:
            return SmokeResult(None, answer.status, answer.latency_ms, problems=[answer.problem])
        if chat:
            problems = smoke.chat_problems(200, answer.body)
        else:
            problems = smoke.response_problems(
                200, answer.content_type, answer.body, accept, settings.sample_response_keys
            )
        return SmokeResult(None, 200, answer.latency_ms, target.inference_component, problems)

    def registry_refusal(self, target: ModelTarget) -> str | None:
        """The model registry's word on the packages the stack file deploys (``DescribeModelPackage``)."""
        return registry_gate.refusal(self._aws("sagemaker", target), target.model)

    def promotion_problem(self, target: ModelTarget, phase: PromotePhase) -> str | None:
        """Nothing shifts for a component: whether every copy runs the stack file's version, if not why."""
        return version_problem(self.describe(target), component_api.specification(component_spec(target)))


def version_problem(state: ComponentState, desired: Mapping[str, Any]) -> str | None:
    """Why the component does not run ``desired`` on every copy, if it does not (pure)."""
    if state.status == UPDATING:
        return (
            f"inference component {state.name} is Updating: a rolling update is running; "
            "wait for it (modelfleet rollout attaches to it) or abort it (modelfleet rollout abort)"
        )
    if state.status != IN_SERVICE:
        reason = f": {state.failure_reason}" if state.failure_reason else ""
        return f"inference component {state.name} is {state.status}{reason}"
    changed = component_api.differences(desired, state.specification)
    if changed:
        return (
            f"inference component {state.name} does not run the stack file's version (differs in "
            f"{', '.join(changed)}): roll it out first (modelfleet rollout)"
        )
    return None


# ``modelfleet loadtest --stack S --model M`` sends a component its clients' requests, streamed.


def load_clients(region: str, read_timeout: float, concurrency: int) -> tuple[Any, Any]:
    """(sagemaker, sagemaker-runtime) for a load test: the runtime client retries nothing (a retry
    would hide a failed request) and keeps a connection per request in flight."""
    runtime = client(
        "sagemaker-runtime",
        region,
        read_timeout=read_timeout,
        max_attempts=1,
        max_pool_connections=concurrency,
    )
    return sagemaker_client("sagemaker", region), runtime


def _no_split(target: ModelTarget, capability: str) -> NoReturn:
    raise InvalidInput(
        f"model '{target.model.name}' runs as inference component {target.inference_component} on shared "
        f"endpoint {target.endpoint_name}: {capability} does not apply to it; a new version replaces "
        "its copies by a rolling update (modelfleet rollout)"
    )
