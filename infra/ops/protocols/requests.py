"""The request each runtime answers, built for a ``--url`` target (pure).

Paths and bodies follow the runtimes' own documentation:
- vLLM's OpenAI-compatible server: ``POST /v1/chat/completions`` with ``stream: true``
  and ``stream_options.include_usage``, so the last chunk carries the token counts;
  ``GET /v1/models`` lists the names it serves (the ``model`` a request must name).
  ``ignore_eos`` (a vLLM sampling parameter) makes every completion ``max_tokens``
  long, so a load test's token rate does not depend on where the model stops.
- Text Embeddings Inference: ``POST /v1/embeddings`` (OpenAI's shape, ``model``
  optional) and ``POST /rerank`` (``query`` and ``texts``).
- our container: ``POST /invocations`` (SageMaker's contract), the body as given.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from infra.contracts import runtimes
from infra.contracts.runtimes import REQUEST_PATHS, Request, Runtime
from infra.ops.errors import InvalidInput

EVENT_STREAM = "text/event-stream"

Task = Literal["embed", "rerank"]  # a tei model's task, as the catalog's tei.task says
TASK_REQUESTS: Mapping[str, Request] = {"embed": Request.EMBEDDINGS, "rerank": Request.RERANK}

SMOKE_MAX_TOKENS = 16  # enough to see tokens stream, quick on any model
SAMPLE_PROMPT = "In two sentences, explain what a load balancer health check is for."
SAMPLE_QUERY = "How do I rotate an access key?"
SAMPLE_TEXTS = (
    "Access keys are rotated by creating a second key, switching clients to it, then deleting the first.",
    "A health check marks a target unhealthy after consecutive failed probes.",
    "Invoices are issued on the first working day of each month.",
    "Rotate credentials at least every 90 days, and at once if one may have leaked.",
    "The cafeteria opens at eight and closes at three.",
    "Service accounts should use short-lived credentials instead of long-lived keys.",
    "Autoscaling adds replicas when the queue per replica exceeds its target.",
    "Keys that have not been used for 45 days are deactivated automatically.",
)


@dataclass(frozen=True)
class RuntimeTarget:
    """What a ``--url`` command talks to, and how, from the flags or the model's catalog entry."""

    base_url: str
    runtime: Runtime
    request: Request
    served_model_name: str | None = None  # vLLM and TEI: the name clients pass as ``model``
    payload: str | None = None  # the body as given: --payload, or the catalog's rollout.sample_payload
    content_type: str = "application/json"  # of an /invocations body
    accept: str = "*/*"  # what an /invocations answer must be
    expected_keys: tuple[str, ...] = ()  # top-level keys a JSON /invocations answer must have
    origin: str = ""  # where these facts come from, e.g. "stack staging, model support-chat"

    def described(self, served_model_name: str | None = None) -> str:
        """``vllm chat (qwen2.5-7b-instruct)``: what is spoken to, for one line of output."""
        name = served_model_name or self.served_model_name
        return f"{self.runtime.value} {self.request.value}" + (f" ({name})" if name else "")


@dataclass(frozen=True)
class HttpRequest:
    path: str
    body: bytes
    headers: dict[str, str]
    inputs: int  # texts it carries (embeddings, rerank); 1 otherwise
    streamed: bool  # an SSE answer, read chunk by chunk


def request_for(runtime: Runtime, task: str | None) -> Request:
    """The request a runtime is sent: its first, or the one ``task`` names (tei: embed or rerank)."""
    answers = runtimes.contract(runtime).requests
    if task is None:
        return answers[0]
    wanted = TASK_REQUESTS[task]
    if wanted not in answers:
        kinds = ", ".join(r.value for r in answers)
        raise InvalidInput(f"--task {task}: runtime {runtime.value} answers {kinds} requests only")
    return wanted


def _object(payload: str) -> dict[str, Any]:
    try:
        document = json.loads(payload)
    except ValueError:
        raise InvalidInput("--payload is not valid JSON") from None
    if not isinstance(document, dict):
        raise InvalidInput("--payload must be a JSON object")
    return document


def _texts(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(t, str) for t in value)


def _json(kind: Request, body: dict[str, Any], inputs: int, accept: str = "application/json") -> HttpRequest:
    headers = {"content-type": "application/json", "accept": accept}
    streamed = accept == EVENT_STREAM
    return HttpRequest(REQUEST_PATHS[kind], json.dumps(body).encode(), headers, inputs, streamed)


def chat(target: RuntimeTarget, model: str | None, max_tokens: int | None, fixed_length: bool) -> HttpRequest:
    """A streamed chat completion that reports its usage.

    The sample asks for ``max_tokens`` (exactly that many with ``fixed_length``); a
    payload keeps its own length unless ``max_tokens`` is given.
    """
    if target.payload:
        body = _object(target.payload)
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
    else:
        content = [{"role": "user", "content": SAMPLE_PROMPT}]
        body = {"messages": content, "max_tokens": max_tokens or SMOKE_MAX_TOKENS}
        if fixed_length:
            body["ignore_eos"] = True
    if not isinstance(body.get("messages"), list) or not body["messages"]:
        raise InvalidInput("a chat --payload needs 'messages': a list of {role, content}")
    if model:
        body.setdefault("model", model)
    body["stream"] = True
    body["stream_options"] = {**(body.get("stream_options") or {}), "include_usage": True}
    return _json(Request.CHAT, body, 1, accept=EVENT_STREAM)


def embeddings(target: RuntimeTarget, model: str | None) -> HttpRequest:
    body = _object(target.payload) if target.payload else {"input": list(SAMPLE_TEXTS)}
    given = body.get("input")
    if not (isinstance(given, str) and given) and not _texts(given):
        raise InvalidInput("an embeddings --payload needs 'input': a string or a list of strings")
    if model:
        body.setdefault("model", model)
    return _json(Request.EMBEDDINGS, body, 1 if isinstance(given, str) else len(given))


def rerank(target: RuntimeTarget) -> HttpRequest:
    body = _object(target.payload) if target.payload else {"query": SAMPLE_QUERY, "texts": list(SAMPLE_TEXTS)}
    if not isinstance(body.get("query"), str) or not _texts(body.get("texts")):
        raise InvalidInput("a rerank --payload needs 'query' (a string) and 'texts' (a list of strings)")
    return _json(Request.RERANK, body, len(body["texts"]))


def invocation(target: RuntimeTarget) -> HttpRequest:
    if target.payload is None:
        raise InvalidInput("no request body: pass --payload, or --stack/--model with rollout.sample_payload")
    headers = {"content-type": target.content_type, "accept": target.accept}
    return HttpRequest(REQUEST_PATHS[Request.INVOCATIONS], target.payload.encode(), headers, 1, False)


def build(
    target: RuntimeTarget, model: str | None, max_tokens: int | None = None, fixed_length: bool = False
) -> HttpRequest:
    """The request ``target`` is sent; ``model`` is the served name (vLLM needs one, TEI may omit it)."""
    match target.request:
        case Request.CHAT:
            return chat(target, model, max_tokens, fixed_length)
        case Request.EMBEDDINGS:
            return embeddings(target, model)
        case Request.RERANK:
            return rerank(target)
    return invocation(target)


def body_text(request: HttpRequest) -> str:
    """The body as it will be sent, for a dry run (cut at 300 characters)."""
    text = request.body.decode(errors="replace")
    return text if len(text) <= 300 else text[:297] + "..."
