"""The SageMaker driver: a model on its own real-time endpoint, through boto3.

The split is the endpoint's variant weights (``infra.ops.endpoints``), the
rollout's record lives in the endpoint's tags (``infra.ops.progress``), the gates
are CloudWatch alarms and ``AWS/SageMaker`` invocation metrics
(``infra.ops.signals``), and a smoke test is one ``InvokeEndpoint``. Clients are
made for the target's region on first use, unless given (the tests give moto's).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from botocore.exceptions import ClientError

from infra.ops import endpoints, progress, promote, registry_gate, signals, smoke
from infra.ops.clients import client
from infra.ops.clock import Clock
from infra.ops.drivers.base import (
    CANARY,
    STABLE,
    EndpointState,
    GateReadings,
    ModelTarget,
    PromotePhase,
    SmokeResult,
)
from infra.ops.gates import VariantMetrics
from infra.ops.loadtest import Send
from infra.ops.progress import Progress
from infra.settings.catalog import Backend, ModelBase

# An invocation may take up to 60 s on a real-time endpoint; other calls answer within 30.
READ_TIMEOUT_SECONDS = {"sagemaker-runtime": 70}


def regional_client(service: str, region: str) -> Any:
    return client(service, region, read_timeout=READ_TIMEOUT_SECONDS.get(service, 30))


@dataclass
class SageMakerDriver:
    clients: dict[str, Any] = field(default_factory=dict)  # boto3 clients by service name

    backend: ClassVar[Backend] = Backend.SAGEMAKER
    gate_source: ClassVar[str] = "CloudWatch"
    copies_packages: ClassVar[bool] = False  # SageMaker reads the package itself

    def _aws(self, service: str, target: ModelTarget) -> Any:
        if service not in self.clients:
            self.clients[service] = regional_client(service, target.region)
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
        """The endpoint, its variants and the model's alarms, by the names the stack gives them."""
        return ModelTarget(
            stack=stack,
            region=region,
            model=model,
            endpoint_name=record["endpoint_name"],
            variants=tuple(record["variants"]),
            alarm_names=tuple(record["alarm_names"]),
            stack_file=stack_file,
        )

    def wait_in_service(
        self, target: ModelTarget, timeout_seconds: float, clock: Clock, poll_seconds: float
    ) -> EndpointState:
        """``InService``, refusing a running blue/green deployment; weights cannot change before."""
        return endpoints.wait_in_service(
            self._aws("sagemaker", target), target.endpoint_name, timeout_seconds, clock, poll_seconds
        )

    def read_weights(self, target: ModelTarget) -> EndpointState:
        """``DescribeEndpoint``: the desired weights, the status and the deployed configuration."""
        return endpoints.describe(self._aws("sagemaker", target), target.endpoint_name)

    def set_weights(self, target: ModelTarget, canary_percent: float) -> dict[str, float]:
        """``UpdateEndpointWeightsAndCapacities``: weights only, so capacity stays with autoscaling."""
        sagemaker = self._aws("sagemaker", target)
        return endpoints.set_canary_percent(sagemaker, target.endpoint_name, canary_percent)

    def read_progress(self, target: ModelTarget, state: EndpointState) -> Progress | None:
        """The record in the endpoint's tags, if it is the deployed configuration's."""
        return progress.read(self._aws("sagemaker", target), state.arn, state.config_name)

    def write_progress(self, target: ModelTarget, state: EndpointState, record: Progress) -> None:
        """The record into the endpoint's tags (``AddTags``, then ``DeleteTags`` for keys it lacks)."""
        progress.write(self._aws("sagemaker", target), state.arn, record)

    def read_alarms(self, target: ModelTarget, names: Sequence[str]) -> tuple[list[str], list[str]]:
        """``DescribeAlarms`` in batches: the names in ALARM and the names not found."""
        return signals.alarm_states(self._aws("cloudwatch", target), names)

    def read_gates(
        self, target: ModelTarget, names: Sequence[str], since: float, until: float
    ) -> GateReadings:
        """The alarms, then one ``GetMetricData`` for both variants over the window."""
        cloudwatch = self._aws("cloudwatch", target)
        firing, missing = signals.alarm_states(cloudwatch, names)
        metrics = signals.variant_metrics(cloudwatch, target.endpoint_name, [STABLE, CANARY], since, until)
        return GateReadings(firing, missing, metrics)

    def read_metrics(
        self, target: ModelTarget, variants: Sequence[str], since: float, until: float
    ) -> dict[str, VariantMetrics]:
        """One ``GetMetricData`` for ``variants`` over the window (a shadow report's)."""
        cloudwatch = self._aws("cloudwatch", target)
        return signals.variant_metrics(cloudwatch, target.endpoint_name, variants, since, until)

    def smoke(self, target: ModelTarget, variant: str | None) -> SmokeResult:
        """One ``InvokeEndpoint`` with the sample; ``variant`` pins ``TargetVariant``."""
        payload = smoke.sample_payload(target, variant)
        settings = target.rollout
        request: dict[str, Any] = {
            "EndpointName": target.endpoint_name,
            "Body": payload.encode(),
            "ContentType": settings.sample_content_type,
            "Accept": settings.sample_accept,
        }
        if variant:
            request["TargetVariant"] = variant
        answer = invoke_once(self._aws("sagemaker-runtime", target), request)
        if answer.problem:
            return SmokeResult(variant, answer.status, answer.latency_ms, problems=[answer.problem])
        problems = smoke.response_problems(
            200, answer.content_type, answer.body, settings.sample_accept, settings.sample_response_keys
        )
        return SmokeResult(variant, 200, answer.latency_ms, answer.invoked_variant, problems)

    def registry_refusal(self, target: ModelTarget) -> str | None:
        """The model registry's word on the packages the stack file deploys (``DescribeModelPackage``)."""
        return registry_gate.refusal(self._aws("sagemaker", target), target.model)

    def promotion_problem(self, target: ModelTarget, phase: PromotePhase) -> str | None:
        """The endpoint's split, and the canary's progress record or its scaling target, per edit."""
        sagemaker = self._aws("sagemaker", target)
        state = endpoints.describe(sagemaker, target.endpoint_name)
        scaling = phase == "remove" and canary_is_scaling_target(
            self._aws("application-autoscaling", target), target.endpoint_name
        )
        record = progress.read(sagemaker, state.arn, state.config_name) if phase == "shift" else None
        return promote.endpoint_problem(phase, state.canary_percent(), scaling, record)


@dataclass(frozen=True)
class Invocation:
    """One ``InvokeEndpoint``: the answer, or why there was none."""

    status: int  # HTTP status: 200, or the model's or SageMaker's error status
    latency_ms: float
    body: bytes = b""
    content_type: str = ""
    invoked_variant: str | None = None
    problem: str | None = None  # set when the invocation failed


def invoke_once(runtime: Any, request: Mapping[str, Any]) -> Invocation:
    """Send one request through a sagemaker-runtime client; a client error is an answer, not a crash."""
    started = time.perf_counter()
    try:
        response = runtime.invoke_endpoint(**request)
        body = response["Body"].read()
    except ClientError as error:
        elapsed = (time.perf_counter() - started) * 1000
        details = error.response
        status = int(
            details.get("OriginalStatusCode") or details.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        )
        message = details.get("Error", {}).get("Message", str(error))
        return Invocation(status, elapsed, problem=f"invocation failed ({status}): {message}")
    elapsed = (time.perf_counter() - started) * 1000
    return Invocation(
        200, elapsed, body, response.get("ContentType", ""), response.get("InvokedProductionVariant")
    )


def canary_is_scaling_target(autoscaling: Any, endpoint_name: str) -> bool:
    """SageMaker refuses to remove a variant that Application Auto Scaling still targets."""
    found = autoscaling.describe_scalable_targets(
        ServiceNamespace="sagemaker", ResourceIds=[f"endpoint/{endpoint_name}/variant/canary"]
    )
    return bool(found.get("ScalableTargets"))


# ``modelfleet loadtest --endpoint`` names a SageMaker endpoint directly, with no catalog model.


def endpoint_instance_count(region: str, endpoint_name: str) -> int:
    """The instances behind an endpoint, at least 1: a load test divides its rate by them."""
    state = endpoints.describe(regional_client("sagemaker", region), endpoint_name)
    return max(1, sum(state.instances.values()))


def endpoint_sender(
    region: str, executor: ThreadPoolExecutor, endpoint: str, body: bytes, content_type: str, accept: str
) -> Send:
    """boto3 is synchronous: each invocation runs on a bounded thread pool."""
    runtime = regional_client("sagemaker-runtime", region)

    def invoke() -> bool:
        response = runtime.invoke_endpoint(
            EndpointName=endpoint, Body=body, ContentType=content_type, Accept=accept
        )
        response["Body"].read()
        return True

    async def send() -> bool:
        try:
            return await asyncio.get_running_loop().run_in_executor(executor, invoke)
        except Exception:  # a throttle or model error is a failed request, not a crashed test
            return False

    return send
