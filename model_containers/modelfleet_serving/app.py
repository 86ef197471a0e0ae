"""The ASGI application: ``/ping``, ``/invocations`` and ``/metrics``, nothing else.

A raw ASGI callable rather than a framework keeps the hot path short. ``/ping``
never waits for the model: inference runs in a thread, so the event loop stays
free, and it says ready only once the handler's ``load()`` has returned. Every
failure is a typed error (``errors.py``) answered in one place, ``_refusal``:
a client's mistake is a 4xx with a JSON body; a model failure is a 500
carrying a request id, and the worker keeps serving. With data capture on (EKS),
a 200's bodies are offered to ``capture.py`` after the answer is sent.

An invocation runs in stages that return a reply (status, headers, body) or raise a
``ServingError``: ``_admit`` (headers only), ``_submit`` (the body: cache, decode,
the batcher's queue) and ``_answer`` (the model's output, encoded). Two callers
share them: the ASGI coroutine, and ``invoke_now``, which the protocol calls once a
small request has arrived whole and which answers from the batch's done callback,
with no task and no coroutine per request (the interpreter's work per request was
most of the server's CPU).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import orjson

from modelfleet_serving import codecs, contract, errors, metrics
from modelfleet_serving.batching import Batcher
from modelfleet_serving.binding import ServedModel, bind
from modelfleet_serving.cache import ResponseCache
from modelfleet_serving.capture import Capture
from modelfleet_serving.config import ServerConfig
from modelfleet_serving.handlers import load_handler
from modelfleet_serving.protocol import RECEIVED_AT

log = logging.getLogger("modelfleet.serving")
JSON_HEADERS = [(b"content-type", b"application/json")]
AT_CAPACITY = "server is at capacity, retry shortly"
# The shed answer is the most frequent one under overload: built once, so a refusal costs little
# more than reading the request (the cheaper it is, the more load a worker can refuse and stay on time).
SHED = (orjson.dumps({"error": AT_CAPACITY}), [*JSON_HEADERS, (b"retry-after", b"1")])
SHED_START = {"type": "http.response.start", "status": 503,
              "headers": [*SHED[1], (b"content-length", str(len(SHED[0])).encode())]}  # fmt: skip
# A reply: status, headers (Content-Length included) and body, sent whole by either caller.
Reply = tuple[int, list[tuple[bytes, bytes]], bytes]
SHED_REPLY: Reply = (503, SHED_START["headers"], SHED[0])
# What the protocol may answer without a task (``invoke_now``): the invocation route.
NOW_ROUTES = frozenset({("POST", contract.INVOKE_PATH)})
MEMO_ENTRIES = 64  # distinct Content-Type and Accept headers remembered per worker


def _memo_put(memo: dict, key: object, value: object) -> None:
    if len(memo) < MEMO_ENTRIES:  # bounded: headers a client varies at will are worked out each time
        memo[key] = value


class ServingApp:
    now_routes = NOW_ROUTES  # read by the protocol: requests it hands to ``invoke_now``

    def __init__(self, config: ServerConfig):
        self.config = config
        self.model: ServedModel | None = None  # set once the handler has loaded
        self.load_error: str | None = None
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model")
        self.batcher: Batcher | None = None
        self.inflight = 0
        self.tally = metrics.Tally()  # published within a second, at every scrape and at shutdown
        self._publishing: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # the worker's, from lifespan startup
        # Content-Type header -> (as text, media type); (Accept header, media type) -> response type
        self._content_types: dict[bytes, tuple[str, str]] = {}
        self._accepts: dict[tuple[bytes, str], str] = {}
        self.cache = (
            ResponseCache(config.cache_entries, config.cache_bytes, config.cache_ttl_seconds)
            if config.cache_entries
            else None
        )
        # Data capture (EKS): the request path only offers the bodies; a thread encodes and writes them.
        self.capture = Capture(config.capture, metrics.CAPTURE_RECORDS) if config.capture else None

    # Lifecycle -----------------------------------------------------------------
    def _load(self) -> None:
        try:
            model = bind(load_handler(self.config.model_dir, self.config.handler))
        except Exception as exc:
            self.load_error = f"{type(exc).__name__}: {exc}"
            log.error("model failed to load", extra={"error": self.load_error})
            return
        self.batcher = Batcher(
            model.predict,
            self.executor,
            self.config.max_batch_size if model.batched else 1,
            self.config.max_delay_ms,
            self.config.max_queue_rows,
            self.config.timeout_seconds,
            join=model.join,
            queue_deadline_seconds=self.config.queue_deadline_ms / 1000,
            loop=self._loop,
            clock=self._loop.time if self._loop is not None else time.monotonic,  # as RECEIVED_AT is stamped
        )
        self.batcher.on_batch = self.tally.batch
        self.model = model
        # Everything loaded so far (libraries, the model) lives as long as the worker: moving it
        # out of the collector's reach makes each full collection scan only per-request garbage.
        gc.freeze()
        metrics.READY.set(1)
        log.info(
            "model loaded",
            extra={"kind": str(model.kind), "n_features": model.n_features, "pid": os.getpid()},
        )

    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._loop = asyncio.get_running_loop()
                # Load in the background: the port accepts connections at once, /ping says 503 until ready.
                threading.Thread(target=self._load, name="model-load", daemon=True).start()
                if self.capture is not None:
                    self.capture.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.executor.shutdown(wait=True, cancel_futures=False)
                self._publish()
                if self.capture is not None:  # after the drain: every answered request was offered
                    await asyncio.to_thread(self.capture.stop)
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _publish_soon(self) -> None:
        """Publish within ``PUBLISH_SECONDS``: one timer for however many requests come meanwhile."""
        if self._publishing is None:
            loop = self._loop or asyncio.get_running_loop()
            self._publishing = loop.call_later(metrics.PUBLISH_SECONDS, self._publish)

    def _publish(self) -> None:
        """Counts, histograms and the gauges' current values, into the shared metrics."""
        if self._publishing is not None:
            self._publishing.cancel()
            self._publishing = None
        self.tally.publish()
        metrics.INFLIGHT.set(self.inflight)
        metrics.QUEUE_DEPTH.set(self.batcher.queued_rows if self.batcher else 0)

    def refusal(self, method: str, path: str, received_at: float) -> tuple[dict, bytes] | None:
        """Asked by the protocol once a request's headers are read, before anything else runs for it:
        the 503 to send at once when the queue could not start it within its deadline, else None.

        Under overload most requests are refused; this keeps a refusal to the cost of parsing the
        request and one write, so a worker can refuse twice its capacity and answer the rest in time.
        Such a request's headers are not checked: a client mistake is answered when it is admitted.
        """
        batcher = self.batcher
        if batcher is None or path != contract.INVOKE_PATH or method != "POST":
            return None
        if not batcher.saturated(received_at):
            return None
        self.tally.request(503, 0.0)
        self._publish_soon()
        return SHED_START, SHED[0]

    # HTTP ------------------------------------------------------------------------
    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if path == contract.HEALTH_PATH and method in ("GET", "HEAD"):
            ready = self.model is not None
            await _respond(
                send, 200 if ready else 503, b'{"status":"ok"}' if ready else b'{"status":"loading"}'
            )
        elif path == contract.INVOKE_PATH:
            if method != "POST":
                await self._refuse(send, errors.MethodNotAllowed(f"use POST for {contract.INVOKE_PATH}"))
            else:
                await self._invocations(scope, receive, send)
        elif path == contract.METRICS_PATH and method == "GET":
            self._publish()
            await _respond(send, 200, metrics.exposition(), [(b"content-type", b"text/plain; version=0.0.4")])
        else:
            await self._refuse(send, errors.NotFound(f"no route for {method} {path}"))

    async def _invocations(self, scope, receive, send) -> None:
        """An invocation as an ASGI coroutine: bodies that arrive in parts, chunked uploads, pipelining."""
        started = time.perf_counter()
        self.inflight += 1
        self._publish_soon()  # a long request still shows in the in-flight gauge
        reply: Reply | None = None
        call = None
        try:
            try:
                call = self._admit(dict(scope["headers"]), scope.get(RECEIVED_AT))
                if type(call) is tuple:  # shed before reading anything
                    reply, call = call, None
                else:
                    body = await _read_body(receive, self.config.max_payload_bytes)
                    if body is None:
                        raise errors.PayloadTooLarge(self._too_large())
                    pending = self._submit(call, body)
                    reply = pending if type(pending) is tuple else self._answer(call, await pending)
            except Exception as exc:  # anything the model or this server raised: answered, never a crash
                reply, call = self._refusal(exc), None
            await _send(send, reply)
        finally:  # cancelled too: counted as the 500 uvicorn answers
            self._done(reply or (500, [], b""), call, started)

    def invoke_now(
        self,
        headers: dict[bytes, bytes],
        body: bytes,
        received_at: float | None,
        respond: Callable[[int, list[tuple[bytes, bytes]], bytes], None],
    ) -> asyncio.Future | None:
        """An invocation whose whole body has arrived, answered through ``respond`` with no task: at
        once when refused or cached (None), else from the batch's done callback (the batch's future,
        returned so the server can wait for it, or cancel it, at shutdown). Raises only what ``respond``
        raises, after the request is counted."""
        started = time.perf_counter()
        self.inflight += 1
        self._publish_soon()
        call = None
        try:
            admitted = self._admit(headers, received_at)
            if type(admitted) is tuple:  # shed before decoding anything
                reply = admitted
            else:
                call, pending = admitted, self._submit(admitted, body)
                if type(pending) is not tuple:
                    pending.add_done_callback(partial(self._predicted, call, respond, started))
                    return pending
                reply = pending
        except Exception as exc:
            call, reply = None, self._refusal(exc)
        try:
            respond(*reply)
        finally:
            self._done(reply, call, started)
        return None

    def _predicted(self, call: _Call, respond, started: float, future: asyncio.Future) -> None:
        """The batch's done callback for ``invoke_now``: the answer, or the error it is refused with."""
        try:
            reply = self._answer(call, _result(future))
        except BaseException as exc:  # the model's error, a timeout or a refusal: answered, never lost
            call, reply = None, self._refusal(exc)
        try:
            respond(*reply)
        finally:  # counted even if the connection failed under the write
            self._done(reply, call, started)

    def _done(self, reply: Reply, call: _Call | None, started: float) -> None:
        """After a reply is sent: capture a 200's bodies, count it, publish soon."""
        if call is not None and self.capture is not None and reply[0] == 200:
            self.capture.offer(call.observed_type, call.body, call.accept, reply[2])
        self.inflight -= 1
        self.tally.request(reply[0], time.perf_counter() - started)
        self._publish_soon()

    def _refusal(self, exc: BaseException) -> Reply:
        """The one place a failure becomes a reply: its status, its message, Retry-After, request id."""
        if isinstance(exc, errors.QueueFull):
            return SHED_REPLY
        if not isinstance(exc, errors.ServingError | TimeoutError):
            log.error("unexpected error", exc_info=exc)  # a bug of the server's: keep its traceback
        error = errors.as_serving_error(exc, self.config.timeout_seconds)
        if isinstance(error, errors.ModelError):
            request_id = uuid.uuid4().hex
            log.error("model failed", extra={"request_id": request_id, "error": str(error)})
            return _error(500, "the model failed on this request", request_id=request_id)
        return _error(error.status, str(error), retry_after=error.retry_after)

    async def _refuse(self, send, error: errors.ServingError) -> None:
        await _send(send, self._refusal(error))

    def _too_large(self) -> str:
        return f"payload over {self.config.max_payload_bytes // (1024 * 1024)} MiB"

    def _types(self, headers: dict[bytes, bytes], model: ServedModel) -> tuple[str, str, codecs.Decoder, str]:
        """The Content-Type as sent and its media type, that type's decoder, and the response type:
        415 or 406 when there is none. Headers seen before are looked up, not parsed again."""
        raw_type = headers.get(b"content-type", b"")
        known = self._content_types.get(raw_type)
        if known is None:
            observed = raw_type.decode("latin-1")
            known = (observed, codecs.media_type(observed))
            _memo_put(self._content_types, raw_type, known)
        observed_type, content_type = known
        decode = model.decoders.get(content_type)
        if decode is None:
            raise model.unsupported(content_type)
        raw_accept = headers.get(b"accept", b"")
        accept = self._accepts.get((raw_accept, content_type))
        if accept is None:  # NotAcceptable is raised, never remembered
            accept = codecs.negotiate(
                raw_accept.decode("latin-1") or None, content_type, model.response_types
            )
            _memo_put(self._accepts, (raw_accept, content_type), accept)
        return observed_type, content_type, decode, accept

    def _admit(self, headers: dict[bytes, bytes], received_at: float | None) -> _Call | Reply:
        """What the headers decide before the body is read: a refusal (raised), the shed reply when the
        queue could not start the request in time, else the request's call."""
        try:
            declared = int(headers.get(b"content-length", b"0") or 0)
        except ValueError:
            raise errors.BadRequest("content-length is not a number") from None
        if declared > self.config.max_payload_bytes:  # refused before the body is read
            raise errors.PayloadTooLarge(self._too_large())
        model, batcher = self.model, self.batcher
        if model is None or batcher is None:  # the handler decides which content types it takes
            raise errors.Unavailable("model is loading")
        observed_type, content_type, decode, accept = self._types(headers, model)
        if batcher.saturated(received_at):  # shed before reading or parsing anything
            return SHED_REPLY
        return _Call(model, batcher, observed_type, content_type, decode, accept, received_at)

    def _submit(self, call: _Call, body: bytes) -> asyncio.Future | Reply:
        """The body: a cached answer, else decoded, checked and queued (the batcher's future)."""
        call.body = body
        cache = self.cache
        if cache is not None:  # ``is not None``: an empty cache has len() 0
            call.cache_key = cache.key(call.content_type, call.accept, body)
            if (hit := cache.get(call.cache_key)) is not None:
                return 200, _headers(hit, (b"content-type", call.accept.encode()), (b"x-cache", b"hit")), hit
        model = call.model
        payload = call.decode(body)
        if model.check is not None:
            model.check(payload)
        if len(payload) > self.config.max_queue_rows:  # would never fit the queue: not worth a retry
            raise errors.PayloadTooLarge(
                f"{len(payload)} items in one request; this server takes at most {self.config.max_queue_rows}"
            )
        return call.batcher.enqueue(payload, call.received_at)  # QueueFull: full, or past the deadline

    def _answer(self, call: _Call, predictions: Any) -> Reply:
        """The model's output encoded as negotiated (a 500 when it cannot be), and cached."""
        try:
            answer = call.model.encode(predictions, call.accept)
        except Exception as exc:  # the model's output, not the request: a 500
            failure = f"{type(exc).__name__}: {exc}"
            raise errors.ModelError(f"output not encodable as {call.accept}: {failure}") from None
        if self.cache is not None:
            self.cache.put(call.cache_key, answer)
        return 200, _headers(answer, (b"content-type", call.accept.encode())), answer


class _Call:
    """One admitted invocation between its stages: what its headers chose, and its body once read."""

    __slots__ = ("accept", "batcher", "body", "cache_key", "content_type", "decode", "model",
                 "observed_type", "received_at")  # fmt: skip

    def __init__(self, model, batcher, observed_type, content_type, decode, accept, received_at) -> None:
        self.model: ServedModel = model
        self.batcher: Batcher = batcher
        self.observed_type: str = observed_type  # the Content-Type as sent, for data capture
        self.content_type: str = content_type
        self.decode: codecs.Decoder = decode
        self.accept: str = accept
        self.received_at: float | None = received_at
        self.body = b""
        self.cache_key: object = None


def _result(future: asyncio.Future) -> Any:
    """A batch future's output; a cancelled one as the model error it is answered with."""
    if future.cancelled():
        raise errors.ModelError("the request was cancelled")
    return future.result()


async def _read_body(receive, limit: int) -> bytes | None:
    """The whole body, or None once it grows past ``limit`` (chunked uploads too)."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b""
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _headers(body: bytes, *headers: tuple[bytes, bytes]) -> list[tuple[bytes, bytes]]:
    return [*headers, (b"content-length", str(len(body)).encode())]


async def _send(send, reply: Reply) -> None:
    status, headers, body = reply
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _respond(send, status: int, body: bytes, headers=None) -> None:
    await _send(send, (status, _headers(body, *(headers or JSON_HEADERS)), body))


def _error(status: int, message: str, *, retry_after: bool = False, request_id: str | None = None) -> Reply:
    error = {"error": message, **({"request_id": request_id} if request_id else {})}
    body = orjson.dumps(error)
    return status, _headers(body, *JSON_HEADERS, *([(b"retry-after", b"1")] if retry_after else [])), body


def create_app() -> ServingApp:
    """Factory for uvicorn workers: each builds its own app and loads its own model."""
    return ServingApp(ServerConfig.from_env())
