"""One timed exchange with a runtime through httpx; what the server does never raises.

A refused connection, a timeout, a bad status and a malformed answer all come back
as problems in the ``Exchange``: ``smoke`` prints them, ``loadtest`` counts them.
A streamed answer is read chunk by chunk as it arrives, each read timed with the
clock given (``time.perf_counter`` unless a test hands in its own).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from infra.contracts.runtimes import MODELS_PATH, Request
from infra.ops import smoke
from infra.ops.errors import OpsError
from infra.ops.protocols import answers
from infra.ops.protocols.requests import EVENT_STREAM, HttpRequest, RuntimeTarget
from infra.ops.protocols.sse import ChatStream, EventParser, EventStreamError

Clock = Callable[[], float]  # seconds, monotonic
ERROR_BODY_BYTES = 4096  # of a failed answer, read for the server's message


@dataclass(frozen=True)
class Exchange:
    """One request and its answer: timings in seconds from the send, and what was wrong."""

    status: int  # 0: no HTTP answer at all
    latency_seconds: float  # from the send to the end of the answer, or to the failure
    problems: tuple[str, ...] = ()
    inputs: int = 1  # texts the request carried
    time_to_first_token: float | None = None  # streamed chat only, as are the three below
    token_gaps: tuple[float, ...] = ()
    output_tokens: int = 0
    prompt_tokens: int | None = None  # from usage (chat, embeddings), when the answer has it
    tokens_from: str | None = None  # "usage" or "chunks": where output_tokens was read

    @property
    def ok(self) -> bool:
        return not self.problems


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


async def _error_body(response: httpx.Response) -> bytes:
    body = b""
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) >= ERROR_BODY_BYTES:
            break
    return body[:ERROR_BODY_BYTES]


async def _streamed(http: httpx.AsyncClient, request: HttpRequest, started: float, clock: Clock) -> Exchange:
    async with http.stream("POST", request.path, content=request.body, headers=request.headers) as response:
        status, content_type = response.status_code, response.headers.get("content-type", "")
        if status != 200:
            detail = answers.error_detail(await _error_body(response))
            problem = f"status {status}, expected 200" + (f": {detail}" if detail else "")
            return Exchange(status, clock() - started, (problem,), request.inputs)
        if _media_type(content_type) != EVENT_STREAM:
            problem = f"content type '{content_type}', expected '{EVENT_STREAM}' (a stream)"
            return Exchange(status, clock() - started, (problem,), request.inputs)
        parser, stream = EventParser(), ChatStream(started)
        try:
            async for chunk in response.aiter_bytes():
                at = clock()
                for data in parser.feed(chunk):
                    stream.on_event(data, at)
        except EventStreamError as error:
            return Exchange(status, clock() - started, (f"not a server-sent event stream: {error}",))
    return Exchange(
        status, clock() - started, tuple(stream.finish()), request.inputs, stream.time_to_first_token,
        tuple(stream.token_gaps), stream.output_tokens, stream.prompt_tokens, stream.tokens_from,
    )  # fmt: skip


def _judged(target: RuntimeTarget, request: HttpRequest, response: httpx.Response, took: float) -> Exchange:
    status, body = response.status_code, response.content
    content_type = response.headers.get("content-type", "")
    if target.request is Request.INVOCATIONS:
        problems = smoke.response_problems(status, content_type, body, target.accept, target.expected_keys)
        if status != 200 and body:
            problems = [f"{problems[0]}: {answers.error_detail(body)}"]
        return Exchange(status, took, tuple(problems), request.inputs)
    document, problems = answers.json_answer(status, content_type, body)
    tokens = None
    if not problems and target.request is Request.EMBEDDINGS:
        problems = answers.embeddings_problems(document, request.inputs)
        tokens = answers.prompt_tokens(document)
    elif not problems:
        problems = answers.rerank_problems(document, request.inputs)
    return Exchange(status, took, tuple(problems), request.inputs, prompt_tokens=tokens)


async def exchange(
    http: httpx.AsyncClient,
    target: RuntimeTarget,
    request: HttpRequest,
    timeout_seconds: float,
    clock: Clock = time.perf_counter,
) -> Exchange:
    """Send ``request`` to ``http``'s base URL and judge the answer as ``target``'s runtime gives it."""
    started = clock()
    try:
        async with asyncio.timeout(timeout_seconds):
            if request.streamed:
                return await _streamed(http, request, started, clock)
            response = await http.post(request.path, content=request.body, headers=request.headers)
            return _judged(target, request, response, clock() - started)
    except TimeoutError:
        problem = f"no complete answer within {timeout_seconds:g} s"
    except httpx.ConnectError as error:
        problem = f"cannot connect: {error}"
    except (httpx.HTTPError, OSError) as error:
        problem = f"{type(error).__name__}: {error or 'the connection closed or broke'}"
    return Exchange(0, clock() - started, (problem,), request.inputs)


async def served_models(http: httpx.AsyncClient, base_url: str, timeout_seconds: float) -> list[str]:
    """The names an OpenAI-compatible server serves (``GET /v1/models``); ``OpsError`` if it cannot say."""
    hint = "; pass --served-model-name"
    try:
        async with asyncio.timeout(timeout_seconds):
            response = await http.get(MODELS_PATH)
    except TimeoutError:
        raise OpsError(f"{base_url}{MODELS_PATH}: no answer within {timeout_seconds:g} s{hint}") from None
    except (httpx.HTTPError, OSError) as error:
        raise OpsError(f"cannot connect to {base_url}: {error}") from None
    document, problems = answers.json_answer(
        response.status_code, response.headers.get("content-type", ""), response.content
    )
    data = document.get("data") if isinstance(document, dict) else None
    names = [m["id"] for m in data or [] if isinstance(m, dict) and isinstance(m.get("id"), str)]
    if problems or not names:
        why = "; ".join(problems) or "no model in its answer"
        raise OpsError(f"{base_url}{MODELS_PATH} did not name a served model ({why}){hint}")
    return names
