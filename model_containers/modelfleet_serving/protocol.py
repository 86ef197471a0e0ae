"""The HTTP/1.1 protocol the server runs: uvicorn's httptools protocol with a shorter request path.

Uvicorn keeps everything about connections: accepting, pipelining, upgrades,
flow control, malformed requests (a 400), graceful shutdown. This subclass
changes only what each request costs, and nothing a client sees:
- the status line, headers and body leave in one write, so one send system
  call and one TCP segment per small answer instead of two;
- the request body is handed over as the bytes httptools produced, not copied
  into a ``bytearray`` and back;
- a complete body is returned by ``receive()`` without waiting on an event;
- the keep-alive timer is armed once per idle period, not created and cancelled
  around every request;
- header lines the application sends again and again are checked once;
- a small invocation (``POST /invocations`` with a Content-Length up to 64 KiB, no
  ``Expect: 100-continue``) is handed to the application's ``invoke_now`` once its
  body has arrived, with no ASGI task: the application answers through the
  cycle's ``respond``. Anything else, and a request pipelined behind another,
  runs as uvicorn runs it, a task per request.

It is pinned to the uvicorn release in ``requirements.txt`` (it reads that
release's attributes); ``tests/model_containers`` run the real server through it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import urllib.parse
from typing import Any

import httptools
from uvicorn.protocols.http.flow_control import HIGH_WATER_LIMIT, service_unavailable
from uvicorn.protocols.http.httptools_impl import (
    HEADER_RE,
    HEADER_VALUE_RE,
    STATUS_LINE,
    HttpToolsProtocol,
    RequestResponseCycle,
)
from uvicorn.protocols.utils import get_client_addr, get_path_with_query_string

# Header lines already checked, by (name, value): content types, cache markers, Retry-After. Bounded,
# so values built per request cannot grow it; Content-Length, the one that varies, is never kept.
_CHECKED_LINES: dict[tuple[bytes, bytes], bytes] = {}
_CHECKED_LINES_MAX = 256
_SMALL_BODY = 16 * 1024  # joined with the head into one buffer; larger bodies go out as two buffers
_FRAMING = (b"content-length", b"transfer-encoding", b"connection")  # headers that change the framing
# Bodies up to this size may be answered without a task: at most uvicorn's read buffer, so reading
# is never paused while such a body arrives (nothing would resume it).
_NOW_BODY = HIGH_WATER_LIMIT
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
# uvicorn's answer to an application that raised before responding
_SERVER_ERROR_HEADERS = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"21"),
                         (b"connection", b"close")]  # fmt: skip
# Scope key: when the server read the request, on the loop's clock; the queue deadline runs from it.
RECEIVED_AT = "modelfleet.received_at"
# An origin-form path with nothing to decode: used as it is, without parsing. (``b"%" in url`` would
# first try ``b"%"`` as an integer and raise and catch a TypeError, dearer than this match.)
_PLAIN_PATH = re.compile(rb"/[^%?#]*").fullmatch


def _header_line(name: bytes, value: bytes) -> bytes:
    """``name: value\\r\\n`` (name lower-cased), refusing what uvicorn refuses: a bad name, a control
    character in a value."""
    line = _CHECKED_LINES.get((name, value))
    if line is not None:
        return line
    if HEADER_RE.search(name):
        raise RuntimeError("Invalid HTTP header name.")
    if HEADER_VALUE_RE.search(value):
        raise RuntimeError("Invalid HTTP header value.")
    lowered = name.lower()
    if lowered == b"content-length" and value.isdigit():
        return b"content-length: " + value + b"\r\n"
    line = b"".join((lowered, b": ", value, b"\r\n"))
    if lowered not in (b"content-length", b"date") and len(_CHECKED_LINES) < _CHECKED_LINES_MAX:
        _CHECKED_LINES[(name, value)] = line
    return line


class _DefaultHeaders:
    """The server's default headers (the date, replaced every second) as checked lines, built once per list.

    ``block`` is None when they hold a header that changes the framing: then they go line by line.
    """

    __slots__ = ("block", "headers")

    def __init__(self) -> None:
        self.headers: object = None
        self.block: bytes | None = None

    def lines(self, headers: list[tuple[bytes, bytes]]) -> bytes | None:
        if headers is not self.headers:
            framing = any(name.lower() in _FRAMING for name, _ in headers)
            self.block = None if framing else b"".join(_header_line(name, value) for name, value in headers)
            self.headers = headers
        return self.block


_DEFAULTS = _DefaultHeaders()


class _Signal:
    """A one-waiter ``asyncio.Event``: set, clear, wait (the request cycle's only waiter is ``receive``)."""

    __slots__ = ("_loop", "_set", "_waiter")

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self._loop, self._set, self._waiter = loop, False, None

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def clear(self) -> None:
        self._set = False

    async def wait(self) -> None:
        if self._set:
            return
        self._waiter = self._loop.create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None


class ServingCycle(RequestResponseCycle):
    """One request and its response, as uvicorn's, with the body held as chunks and one write per answer."""

    def __init__(self, protocol: ServingProtocol, keep_alive: bool, expect_100_continue: bool):
        # Every attribute uvicorn's cycle has (its run_asgi and the protocol read them), set directly.
        self.scope = protocol.scope
        self.transport = protocol.transport
        self.flow = protocol.flow
        self.logger = protocol.logger
        self.access_logger = protocol.access_logger
        self.access_log = protocol.access_log
        self.default_headers = protocol.server_state.default_headers
        self.message_event = _Signal(protocol.loop)
        self.on_response = protocol.on_response_complete
        self.disconnected = False
        self.keep_alive = keep_alive
        self.waiting_for_100_continue = expect_100_continue
        self.chunks: list[bytes] = []
        self.buffered = 0
        self.more_body = True
        self.response_started = False
        self.response_complete = False
        self.chunked_encoding: bool | None = None
        self.expected_content_length = 0
        self.head: bytes | None = None  # status line and headers, sent with the first body part
        self.now: dict[bytes, bytes] | None = None  # the headers of a request answered without a task
        self.received_at: float | None = None

    async def receive(self) -> Any:
        chunks = self.chunks
        if self.more_body or not chunks or self.disconnected or self.response_complete:
            return await self._receive_waiting()
        # The whole body has arrived: no wait, and a single chunk is handed over as it is.
        self._continue()
        self.flow.resume_reading()
        self.message_event.clear()
        self.chunks, self.buffered = [], 0
        return {"type": "http.request", "body": chunks[0] if len(chunks) == 1 else b"".join(chunks),
                "more_body": False}  # fmt: skip

    async def _receive_waiting(self) -> Any:
        """uvicorn's ``receive``: wait for body bytes, the end of the body or a disconnect."""
        self._continue()
        if not self.disconnected and not self.response_complete:
            self.flow.resume_reading()
            await self.message_event.wait()
            self.message_event.clear()
        if self.disconnected or self.response_complete:
            return {"type": "http.disconnect"}
        chunks, self.chunks, self.buffered = self.chunks, [], 0
        return {"type": "http.request", "body": chunks[0] if len(chunks) == 1 else b"".join(chunks),
                "more_body": self.more_body}  # fmt: skip

    def _continue(self) -> None:
        """``Expect: 100-continue``: the client waits for this before sending the body."""
        if self.waiting_for_100_continue and not self.transport.is_closing():
            self.transport.write(CONTINUE)
            self.waiting_for_100_continue = False

    async def send(self, message: Any) -> None:
        if self.flow.write_paused and not self.disconnected:
            await self.flow.drain()
        if self.disconnected:
            return
        if not self.response_started:
            if message["type"] != "http.response.start":
                raise RuntimeError(
                    f"Expected ASGI message 'http.response.start', but got '{message['type']}'."
                )
            self._start(message)
        elif not self.response_complete:
            if message["type"] != "http.response.body":
                raise RuntimeError(
                    f"Expected ASGI message 'http.response.body', but got '{message['type']}'."
                )
            self._body(message.get("body", b""), message.get("more_body", False))
        else:
            raise RuntimeError(
                f"Unexpected ASGI message '{message['type']}' sent, after response already completed."
            )

    def respond(self, status_code: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        """A whole response at once, for an application answering without a task (``invoke_now``);
        nothing once the client has gone or the connection is closing (an earlier request's 400, a
        pipelined request's disconnect). Unlike ``send`` it does not wait for a paused transport: the
        one response is buffered, and the protocol reads no more requests until the buffer drains.

        ``headers`` end with the body's Content-Length and hold nothing else that frames it, as
        ``ServingApp`` builds them: then the answer is written here in one piece; anything else goes
        through ``send``'s steps."""
        if self.disconnected or self.response_started or self.transport.is_closing():
            return
        defaults = _DEFAULTS.lines(self.default_headers)
        if self.access_log or defaults is None or not headers or headers[-1][0] != b"content-length":
            self._start_response(status_code, headers)
            self._body(body, False)
            return
        self.response_started = self.response_complete = True
        content = [STATUS_LINE[status_code], defaults]
        content += [_header_line(name, value) for name, value in headers]
        if not self.keep_alive:
            content.append(b"connection: close\r\n")
        content += (b"\r\n", body)
        self.transport.write(b"".join(content))
        if not self.keep_alive:
            self.transport.close()
        self.on_response()

    def _start(self, message: Any) -> None:
        self._start_response(message["status"], message.get("headers", ()))

    def _start_response(self, status_code: int, headers: Any) -> None:
        """The status line and headers, as uvicorn writes them; held back until the first body part."""
        self.response_started = True
        self.waiting_for_100_continue = False
        if self.access_log and self.access_logger.isEnabledFor(logging.INFO):
            self.access_logger.info(
                '%s - "%s %s HTTP/%s" %d',
                get_client_addr(self.scope),
                self.scope["method"],
                get_path_with_query_string(self.scope),
                self.scope["http_version"],
                status_code,
            )
        defaults = _DEFAULTS.lines(self.default_headers)
        if defaults is None:  # a default header changes the framing: every header through the loop
            defaults, headers = b"", (*self.default_headers, *headers)
        content = [STATUS_LINE[status_code], defaults]
        has_connection_close = False
        for raw_name, value in headers:
            content.append(_header_line(raw_name, value))
            name = raw_name.lower()
            if name == b"content-length" and self.chunked_encoding is None:
                self.expected_content_length = int(value.decode())
                self.chunked_encoding = False
            elif name == b"transfer-encoding" and value.lower() == b"chunked":
                self.expected_content_length = 0
                self.chunked_encoding = True
            elif name == b"connection":
                connection = [token.lower().strip() for token in value.split(b",")]
                if b"close" in connection:
                    self.keep_alive = False
                    has_connection_close = True
        if not self.keep_alive and not has_connection_close:
            content.append(b"connection: close\r\n")
        if self.chunked_encoding is None and self.scope["method"] != "HEAD" and status_code not in (204, 304):
            self.chunked_encoding = True
            content.append(b"transfer-encoding: chunked\r\n")
        content.append(b"\r\n")
        self.head = b"".join(content)

    def _write(self, data: bytes) -> None:
        head, self.head = self.head, None
        if head is None:
            if data:
                self.transport.write(data)
        elif len(data) <= _SMALL_BODY:
            self.transport.write(head + data)
        else:
            self.transport.writelines((head, data))

    def _body(self, body: bytes, more_body: bool) -> None:
        if self.scope["method"] == "HEAD":
            self.expected_content_length = 0
            self._write(b"")
        elif self.chunked_encoding:
            content = [b"%x\r\n" % len(body), body, b"\r\n"] if body else []
            if not more_body:
                content.append(b"0\r\n\r\n")
            self._write(b"".join(content))
        else:
            if len(body) > self.expected_content_length:
                raise RuntimeError("Response content longer than Content-Length")
            self.expected_content_length -= len(body)
            self._write(body)
        if not more_body:
            if self.expected_content_length != 0:
                raise RuntimeError("Response content shorter than Content-Length")
            self.response_complete = True
            self.message_event.set()
            if not self.keep_alive:
                self.transport.close()
            self.on_response()


class ServingProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, building ``ServingCycle`` requests and a lazy keep-alive timer."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._idle_since: float | None = None  # None while a request is being read or answered
        self._scope_base: dict | None = None  # the scope entries that hold for the whole connection
        self._pending: asyncio.Future | None = None  # the batch of the request answered without a task
        # The application's overload check (ServingApp.refusal), asked before a request's task starts.
        self._refusal = getattr(self.app, "refusal", None)
        # Invocations the application answers without a task (ServingApp.invoke_now), and their routes.
        self._invoke_now = getattr(self.app, "invoke_now", None)
        self._now_routes = getattr(self.app, "now_routes", frozenset()) if self._invoke_now else frozenset()

    # Keep-alive: one timer per idle period. Activity only clears ``_idle_since``; the timer, when it
    # fires, closes a connection idle for the whole timeout, else re-arms for the time left.
    def _unset_keepalive_if_required(self) -> None:
        self._idle_since = None

    def _arm_keepalive(self, delay: float) -> None:
        self.timeout_keep_alive_task = self.loop.call_later(delay, self.timeout_keep_alive_handler)

    def timeout_keep_alive_handler(self) -> None:
        self.timeout_keep_alive_task = None
        if self._idle_since is None or self.transport.is_closing():
            return  # busy: re-armed when its response completes
        idle = self.loop.time() - self._idle_since
        if idle >= self.timeout_keep_alive:
            self.transport.close()
        else:
            self._arm_keepalive(self.timeout_keep_alive - idle)

    def shutdown(self) -> None:
        """uvicorn's, and a request answered without a task that is still in the queue or the model joins
        the server's tasks: the shutdown waits for it, and past its grace period cancels it (a 500)."""
        pending = self._pending
        if pending is not None and not pending.done():
            self.tasks.add(pending)
            pending.add_done_callback(self.tasks.discard)
        super().shutdown()

    def resume_writing(self) -> None:
        """The write buffer drained: reading resumes, if no response is in progress."""
        super().resume_writing()
        if self.cycle is None or self.cycle.response_complete:
            self.flow.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        if self.timeout_keep_alive_task is not None:
            self.timeout_keep_alive_task.cancel()
            self.timeout_keep_alive_task = None

    def on_message_begin(self) -> None:
        """uvicorn's, with the scope's per-connection entries copied from one dict built per connection.
        A request has begun: the connection is busy (an answer written while reading had marked it idle)."""
        self._idle_since = None
        self.url = b""
        self.expect_100_continue = False
        self.headers = []
        base = self._scope_base
        if base is None:
            base = self._scope_base = {
                "type": "http",
                "asgi": {"version": self.asgi_version, "spec_version": "2.3"},
                "http_version": "1.1",
                "server": self.server,
                "client": self.client,
                "scheme": self.scheme,
                "root_path": self.root_path,
            }
        scope = base.copy()
        scope["asgi"] = base["asgi"].copy()  # an application may write to it: one per request, as uvicorn's
        scope["headers"] = self.headers
        scope["state"] = self.app_state.copy()
        self.scope = scope

    def on_headers_complete(self) -> None:
        parser = self.parser
        http_version = parser.get_http_version()
        scope = self.scope
        scope["method"] = parser.get_method().decode("ascii")
        if http_version != "1.1":
            scope["http_version"] = http_version
        if parser.should_upgrade() and self._should_upgrade():
            return
        url = self.url
        if not self.root_path and _PLAIN_PATH(url):
            scope["path"], scope["raw_path"], scope["query_string"] = url.decode("ascii"), url, b""
        else:  # uvicorn's handling: absolute form, percent-decoding, a query, a root path
            parsed = httptools.parse_url(url)
            raw_path = parsed.path
            path = raw_path.decode("ascii")
            if "%" in path:
                path = urllib.parse.unquote(path)
            scope["path"] = self.root_path + path
            scope["raw_path"] = self.root_path.encode("ascii") + raw_path
            scope["query_string"] = parsed.query or b""
        if self.limit_concurrency is not None and (
            len(self.connections) >= self.limit_concurrency or len(self.tasks) >= self.limit_concurrency
        ):
            app = service_unavailable
            self.logger.warning("Exceeded concurrency limit.")
        else:
            app = self.app
        received_at = scope[RECEIVED_AT] = self.loop.time()  # the loop's clock: when this read began
        existing_cycle = self.cycle
        cycle = self.cycle = ServingCycle(
            self, http_version != "1.0" and parser.should_keep_alive(), self.expect_100_continue
        )
        if existing_cycle is None or existing_cycle.response_complete:
            if app is self.app and (scope["method"], scope["path"]) in self._now_routes:
                headers = dict(self.headers)
                length = headers.get(b"content-length")
                if (
                    length is not None
                    and length.isdigit()
                    and int(length) <= _NOW_BODY
                    and b"transfer-encoding" not in headers
                    and not self.expect_100_continue
                ):
                    # Answered at the message's end; the application sheds there, before decoding.
                    cycle.now, cycle.received_at = headers, received_at
                    return
            refused = self._refusal(scope["method"], scope["path"], received_at) if self._refusal else None
            if refused is not None:  # answered here, no task: the body that follows is skipped
                start, body = refused
                cycle._start(start)
                cycle._body(body, False)
                return
            self._start_asgi_task(cycle, app)
        else:  # pipelined: queued behind the response in progress
            self.flow.pause_reading()
            self.pipeline.appendleft((self.cycle, app))

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        if self.config.reset_contextvars or self.loop.get_task_factory() is not None:
            super()._start_asgi_task(cycle, app)
            return
        # What loop.create_task does, named: uvloop names a task after creating it, so the task first
        # formats a "Task-<n>" name of its own, a tenth of the cost of starting a request.
        task = asyncio.Task(cycle.run_asgi(app), loop=self.loop, name="http-request")
        task.add_done_callback(self.tasks.discard)
        self.tasks.add(task)

    def on_body(self, body: bytes) -> None:
        cycle = self.cycle
        if cycle.response_complete or (self.parser.should_upgrade() and self._should_upgrade()):
            return
        cycle.chunks.append(body)
        cycle.buffered += len(body)
        if cycle.buffered > HIGH_WATER_LIMIT:
            self.flow.pause_reading()
        cycle.message_event.set()

    def on_message_complete(self) -> None:
        cycle = self.cycle
        if cycle.response_complete or (self.parser.should_upgrade() and self._should_upgrade()):
            return
        cycle.more_body = False
        if cycle.now is not None:
            chunks, cycle.chunks, cycle.buffered = cycle.chunks, [], 0
            body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
            try:
                # In the queue or the model: at most one per connection (later requests queue behind it)
                self._pending = self._invoke_now(cycle.now, body, cycle.received_at, cycle.respond)
            except BaseException as exc:  # a bug of the application's: uvicorn's answer to one
                self.logger.error("Exception in ASGI application\n", exc_info=exc)
                if not cycle.response_started:
                    cycle.respond(500, _SERVER_ERROR_HEADERS, b"Internal Server Error")
                else:
                    self.transport.close()
            return
        cycle.message_event.set()

    def on_response_complete(self) -> None:
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        if self.flow.write_paused:  # a client not reading its answers: read no more until it does
            self.flow.pause_reading()
        else:
            self.flow.resume_reading()
        if self.pipeline:
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
            return
        self._idle_since = self.loop.time()
        if self.timeout_keep_alive_task is None:
            self._arm_keepalive(self.timeout_keep_alive)
