"""The ASGI application: ``/ping``, ``/invocations`` and ``/metrics``, nothing else.

A raw ASGI callable rather than a framework keeps the hot path short. ``/ping``
never waits for the model: inference runs in a thread, so the event loop stays
free. Every client mistake is a 4xx with a JSON body; a model failure is a 500
carrying a request id, and the worker keeps serving.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import orjson

from modelfleet_serving import codecs, contract, metrics
from modelfleet_serving.batching import Batcher, ModelError, QueueFull
from modelfleet_serving.cache import ResponseCache
from modelfleet_serving.config import ServerConfig
from modelfleet_serving.handlers import Handler, load_handler

log = logging.getLogger("modelfleet.serving")
JSON_HEADERS = [(b"content-type", b"application/json")]


class ServingApp:
    def __init__(self, config: ServerConfig):
        self.config = config
        self.handler: Handler | None = None
        self.load_error: str | None = None
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model")
        self.batcher: Batcher | None = None
        self.inflight = 0
        self.tally = metrics.Tally()  # published within a second, at every scrape and at shutdown
        self._publishing: asyncio.TimerHandle | None = None
        self.cache = (
            ResponseCache(config.cache_entries, config.cache_bytes, config.cache_ttl_seconds)
            if config.cache_entries
            else None
        )

    # Lifecycle -----------------------------------------------------------------
    def _load(self) -> None:
        try:
            handler = load_handler(self.config.model_dir, self.config.handler)
        except Exception as exc:
            self.load_error = f"{type(exc).__name__}: {exc}"
            log.error("model failed to load", extra={"error": self.load_error})
            return
        self.batcher = Batcher(
            handler.predict_batch,
            self.executor,
            self.config.max_batch_size,
            self.config.max_delay_ms,
            self.config.max_queue_rows,
            self.config.timeout_seconds,
        )
        self.batcher.on_batch = self.tally.batch
        self.handler = handler
        # Everything loaded so far (libraries, the model) lives as long as the worker: moving it
        # out of the collector's reach makes each full collection scan only per-request garbage.
        gc.freeze()
        metrics.READY.set(1)
        log.info("model loaded", extra={"n_features": handler.n_features, "pid": os.getpid()})

    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                # Load in the background: the port accepts connections at once, /ping says 503 until ready.
                threading.Thread(target=self._load, name="model-load", daemon=True).start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.executor.shutdown(wait=True, cancel_futures=False)
                self._publish()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _publish_soon(self) -> None:
        """Publish within ``PUBLISH_SECONDS``: one timer for however many requests come meanwhile."""
        if self._publishing is None:
            self._publishing = asyncio.get_running_loop().call_later(metrics.PUBLISH_SECONDS, self._publish)

    def _publish(self) -> None:
        """Counts, histograms and the gauges' current values, into the shared metrics."""
        if self._publishing is not None:
            self._publishing.cancel()
            self._publishing = None
        self.tally.publish()
        metrics.INFLIGHT.set(self.inflight)
        metrics.QUEUE_DEPTH.set(self.batcher.queued_rows if self.batcher else 0)

    # HTTP ------------------------------------------------------------------------
    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if path == contract.HEALTH_PATH and method in ("GET", "HEAD"):
            ready = self.handler is not None
            await _respond(
                send, 200 if ready else 503, b'{"status":"ok"}' if ready else b'{"status":"loading"}'
            )
        elif path == contract.INVOKE_PATH:
            if method != "POST":
                await _error(send, 405, f"use POST for {contract.INVOKE_PATH}")
            else:
                await self._invocations(scope, receive, send)
        elif path == contract.METRICS_PATH and method == "GET":
            self._publish()
            await _respond(send, 200, metrics.exposition(), [(b"content-type", b"text/plain; version=0.0.4")])
        else:
            await _error(send, 404, f"no route for {method} {path}")

    async def _invocations(self, scope, receive, send) -> None:
        started = time.perf_counter()
        self.inflight += 1
        self._publish_soon()  # a long request still shows in the in-flight gauge
        status = 500
        try:
            status = await self._invoke(scope, receive, send)
        finally:
            self.inflight -= 1
            self.tally.request(status, time.perf_counter() - started)
            self._publish_soon()

    async def _invoke(self, scope, receive, send) -> int:
        headers = dict(scope["headers"])
        limit = self.config.max_payload_bytes
        try:
            declared = int(headers.get(b"content-length", b"0") or 0)
        except ValueError:
            return await _error(send, 400, "content-length is not a number")
        if declared > limit:  # refused before the body is read
            return await _error(send, 413, f"payload over {limit // (1024 * 1024)} MiB")
        try:
            content_type = codecs.media_type(headers.get(b"content-type", b"").decode("latin-1"))
            accept = codecs.negotiate(headers.get(b"accept", b"").decode("latin-1") or None, content_type)
            if content_type not in codecs.SUPPORTED:
                offered = ", ".join(codecs.SUPPORTED)
                raise codecs.UnsupportedMediaType(
                    f"content type {content_type!r} is not supported; use one of {offered}"
                )
        except (codecs.NotAcceptable, codecs.UnsupportedMediaType) as exc:
            return await _error(send, exc.status, str(exc))
        if self.handler is None or self.batcher is None:
            return await _error(send, 503, "model is loading", retry_after=True)
        if self.batcher.queued_rows >= self.config.max_queue_rows:  # shed before reading or parsing anything
            return await _error(send, 503, "server is at capacity, retry shortly", retry_after=True)
        body = await _read_body(receive, limit)
        if body is None:
            return await _error(send, 413, f"payload over {limit // (1024 * 1024)} MiB")
        # ``is not None``: an empty cache has len() 0, so plain truthiness would skip the key
        cache_key = self.cache.key(content_type, accept, body) if self.cache is not None else None
        if self.cache is not None and (hit := self.cache.get(cache_key)) is not None:
            return await _respond(send, 200, hit, [(b"content-type", accept.encode()), (b"x-cache", b"hit")])
        try:
            rows = codecs.decode(body, content_type)
        except codecs.BadRequest as exc:
            return await _error(send, 400, str(exc))
        if rows.shape[1] != self.handler.n_features:
            return await _error(
                send, 400, f"each row needs {self.handler.n_features} features, got {rows.shape[1]}"
            )
        try:
            predictions = await self.batcher.submit(rows)  # TimeoutError after config.timeout_seconds
        except QueueFull:
            return await _error(send, 503, "server is at capacity, retry shortly", retry_after=True)
        except TimeoutError:
            return await _error(send, 504, f"model did not answer within {self.config.timeout_seconds:g} s")
        except ModelError as exc:
            request_id = uuid.uuid4().hex
            log.error("model failed", extra={"request_id": request_id, "error": str(exc)})
            return await _error(send, 500, "the model failed on this request", request_id=request_id)
        payload = codecs.encode(predictions, accept)
        if self.cache is not None:
            self.cache.put(cache_key, payload)
        return await _respond(send, 200, payload, [(b"content-type", accept.encode())])


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


async def _respond(send, status: int, body: bytes, headers=None) -> int:
    headers = [*(headers or JSON_HEADERS), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
    return status


async def _error(
    send, status: int, message: str, *, retry_after: bool = False, request_id: str | None = None
) -> int:
    error = {"error": message, **({"request_id": request_id} if request_id else {})}
    headers = list(JSON_HEADERS) + ([(b"retry-after", b"1")] if retry_after else [])
    return await _respond(send, status, orjson.dumps(error), headers)


def create_app() -> ServingApp:
    """Factory for uvicorn workers: each builds its own app and loads its own model."""
    return ServingApp(ServerConfig.from_env())
