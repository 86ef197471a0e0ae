"""Streamed chat load on a vLLM model that runs as an inference component of a shared endpoint.

Each request is one ``InvokeEndpointWithResponseStream`` naming the endpoint and the
component (``InferenceComponentName``), with an OpenAI chat completion as the body:
AWS's LMI container answers a body with ``messages`` as a chat completion on
``/invocations`` and, with ``"stream": true``, sends ``chat.completion.chunk``
objects. SageMaker hands them on in ``PayloadPart`` events whose bytes may cut a
line anywhere; ``infra.ops.protocols.sse`` reassembles the lines and times the
tokens, exactly as for vLLM at a ``--url``, and ``infra.ops.runtime_load`` runs the
loop and writes the report.

A component's hourly cost is its copies' share of the instances it is placed on:

    usd per hour = copies x copy share x usd per instance-hour

where the copy share is ``infra.specs.component_fit.copy_share`` (a copy's
scarcest reservation) and the price is the price table's list price of the shared
endpoint's instance type. The price per million output tokens then follows from
``infra.plan.token_cost``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from infra.ops.protocols.client import Clock, Exchange
from infra.ops.protocols.requests import EVENT_STREAM, HttpRequest
from infra.ops.protocols.sse import ChatStream, EventParser, EventStreamError
from infra.ops.runtime_load import LoadBounds, LoadRun, run_load
from infra.plan.token_cost import usd_per_million_tokens


@dataclass(frozen=True)
class ComponentCost:
    """What the copies serving a load test cost an hour, and what that rests on."""

    instance_type: str  # the shared endpoint's, e.g. ml.g5.12xlarge
    price_key: str  # in the price table, e.g. sagemaker:ml.g5.12xlarge
    usd_per_instance_hour: float
    copy_share: float  # of one instance, per copy (component_fit.copy_share)
    copies: int  # serving during the test
    basis: str  # where the price comes from, e.g. "eu-west-1 on-demand list price of 2026-11-23"

    @property
    def usd_per_copy_hour(self) -> float:
        return self.copy_share * self.usd_per_instance_hour

    @property
    def usd_per_hour(self) -> float:
        return self.copies * self.usd_per_copy_hour

    def usd_per_million_tokens(self, tokens_per_second: float) -> float:
        return usd_per_million_tokens(self.usd_per_copy_hour, tokens_per_second, self.copies)

    def to_dict(self, tokens_per_second: float | None) -> dict[str, Any]:
        priced = None if not tokens_per_second else round(self.usd_per_million_tokens(tokens_per_second), 4)
        return {
            "instance_type": self.instance_type, "price_key": self.price_key,
            "usd_per_instance_hour": self.usd_per_instance_hour, "copy_share": self.copy_share,
            "copies": self.copies, "usd_per_hour": round(self.usd_per_hour, 4), "basis": self.basis,
            "usd_per_million_output_tokens": priced,
        }  # fmt: skip


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _client_problem(error: Exception) -> tuple[int, str]:
    """(HTTP status, one line) of a botocore error: the model's own status when SageMaker relays it."""
    details: dict[str, Any] = getattr(error, "response", None) or {}
    status = int(
        details.get("OriginalStatusCode") or details.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
    )
    info = details.get("Error") or {}
    code, message = info.get("Code"), info.get("Message")
    if code or message:
        return status, f"{code or 'error'}: {message or ''}".strip().rstrip(":")[:200]
    return status, f"{type(error).__name__}: {error}"[:200]


def invoke_streamed(
    runtime: Any,
    endpoint: str,
    component: str,
    request: HttpRequest,
    timeout_seconds: float,
    clock: Clock = time.perf_counter,
) -> Exchange:
    """One streamed chat completion through ``runtime`` (a sagemaker-runtime client), timed; never raises.

    Each read is bounded by the client's read timeout; the whole answer by ``timeout_seconds``,
    checked as each event arrives, after which the stream is closed.
    """
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415 - with the first client

    started = clock()
    status = 0
    try:
        response = runtime.invoke_endpoint_with_response_stream(
            EndpointName=endpoint, InferenceComponentName=component,
            ContentType="application/json", Body=request.body,
        )  # fmt: skip
        status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 200)
        json_lines = _media_type(response.get("ContentType") or "") != EVENT_STREAM
        parser, stream = EventParser(json_lines=True), ChatStream(started, json_lines=json_lines)
        events = response["Body"]
        try:
            for event in events:
                at = clock()
                for data in parser.feed((event.get("PayloadPart") or {}).get("Bytes") or b""):
                    stream.on_event(data, at)
                if at - started > timeout_seconds:
                    problem = f"no complete answer within {timeout_seconds:g} s"
                    return Exchange(status, at - started, (problem,), request.inputs)
            if json_lines:  # a last line without its line end
                for data in parser.feed(b"\n"):
                    stream.on_event(data, clock())
        finally:
            events.close()
    except EventStreamError as error:
        return Exchange(status, clock() - started, (f"not a chat completion stream: {error}",))
    except ClientError as error:  # an error status, or ModelStreamError / InternalStreamFailure mid-stream
        code, problem = _client_problem(error)
        return Exchange(code or status, clock() - started, (problem,), request.inputs)
    except BotoCoreError as error:  # a read timeout, a refused or broken connection
        problem = f"{type(error).__name__}: {error}"[:200]
        return Exchange(status, clock() - started, (problem,), request.inputs)
    return Exchange(
        status, clock() - started, tuple(stream.finish()), request.inputs, stream.time_to_first_token,
        tuple(stream.token_gaps), stream.output_tokens, stream.prompt_tokens, stream.tokens_from,
    )  # fmt: skip


def current_copies(sagemaker: Any, component: str) -> int:
    """``DescribeInferenceComponent``'s ``RuntimeConfig.CurrentCopyCount``: the copies serving now."""
    found = sagemaker.describe_inference_component(InferenceComponentName=component)
    return int((found.get("RuntimeConfig") or {}).get("CurrentCopyCount") or 0)


async def drive(
    runtime: Any,
    endpoint: str,
    component: str,
    request: HttpRequest,
    limits: LoadBounds,
    clock: Clock = time.perf_counter,
) -> LoadRun:
    """``limits.concurrency`` requests in flight, each on a thread of its own (boto3 blocks)."""
    send_one: Callable[[], Exchange] = lambda: invoke_streamed(  # noqa: E731
        runtime, endpoint, component, request, limits.timeout_seconds, clock
    )
    with ThreadPoolExecutor(max_workers=limits.concurrency, thread_name_prefix="loadtest") as pool:
        loop = asyncio.get_running_loop()
        return await run_load(lambda: loop.run_in_executor(pool, send_one), limits, clock)
