"""Small invocations answered without a task (``ServingApp.invoke_now``, the protocol's fast path),
and every request the protocol leaves on the ASGI task path: both must answer byte for byte alike."""

from __future__ import annotations

import asyncio
import os
import socket
import tempfile
import time

import orjson
import pytest

os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="modelfleet-test-metrics-"))

from modelfleet_serving.app import SHED_REPLY, ServingApp
from modelfleet_serving.protocol import _NOW_BODY

from tests.model_containers.conftest import loaded_app

SLOW = "tests.model_containers.fake_handlers:SlowHandler"
ROW = b"[" + b",".join([b"0.5"] * 16) + b"]"


def exchange(port: int, raw: bytes, answers: int = 1, timeout: float = 10) -> list[tuple[bytes, bytes]]:
    """Send ``raw`` on one connection and read ``answers`` responses: (head, body) each."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(raw)
        buffer, replies = b"", []
        while len(replies) < answers:
            while b"\r\n\r\n" not in buffer:
                buffer += _recv(sock)
            head, buffer = buffer.split(b"\r\n\r\n", 1)
            if head.startswith(b"HTTP/1.1 100"):
                continue
            length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length")))  # fmt: skip
            while len(buffer) < length:
                buffer += _recv(sock)
            replies.append((head, buffer[:length]))
            buffer = buffer[length:]
        return replies


def _recv(sock: socket.socket) -> bytes:
    data = sock.recv(65536)
    if not data:
        raise ConnectionError("closed early")
    return data


def post(body: bytes, content_type: bytes = b"application/json", extra: bytes = b"") -> bytes:
    return (b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: " + content_type + b"\r\n" + extra
            + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)  # fmt: skip


def chunked(body: bytes) -> bytes:
    half = len(body) // 2
    parts = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:half], body[half:]))
    return (b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n" + parts + b"0\r\n\r\n")  # fmt: skip


def status(head: bytes) -> int:
    return int(head.split(b" ", 2)[1])


def headers(head: bytes) -> dict[bytes, bytes]:
    lines = head.split(b"\r\n")[1:]
    return {name.lower(): value.strip() for name, value in (line.split(b":", 1) for line in lines)}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from modelfleet_serving.make_examples import make_sklearn

    from tests.model_containers.conftest import Server

    model_dir = make_sklearn(tmp_path_factory.mktemp("now") / "sklearn")
    started = Server(model_dir)
    started.wait_until_ready()
    yield started
    started.stop()


def test_every_path_of_a_request_answers_alike(server):
    """A small body (no task), a chunked upload, Expect: 100-continue and a body past the fast
    path's size (tasks) all get the same status, headers and predictions."""
    padded = ROW + b" " * (_NOW_BODY + 1)  # valid JSON, over the size answered without a task
    ways = {
        "small": post(ROW),
        "chunked": chunked(ROW),
        "expect-100": post(ROW, extra=b"Expect: 100-continue\r\n"),
        "large": post(padded),
    }
    answers = {name: exchange(server.port, raw)[0] for name, raw in ways.items()}
    for name, (head, body) in answers.items():
        assert status(head) == 200, (name, head, body)
        assert headers(head)[b"content-type"] == b"application/json", name
        assert body == answers["small"][1], name


def test_pipelined_requests_are_answered_in_order_on_one_connection(server):
    bodies = [b"[" + b",".join([b"%d" % value] * 16) + b"]" for value in (1, 2, 3)]
    replies = exchange(server.port, b"".join(post(body) for body in bodies), answers=3)
    singles = [exchange(server.port, post(body))[0][1] for body in bodies]
    assert [status(head) for head, _ in replies] == [200, 200, 200]
    assert [body for _, body in replies] == singles
    assert len(set(singles)) == 3  # the three rows really differ, so order is checked


def test_client_mistakes_on_the_fast_path_are_4xx_json(server):
    cases = [
        (post(b"{nope"), 400, "not valid JSON"),
        (post(b"[[1, 2]]"), 400, "each row needs 16 features"),
        (post(b"<x/>", b"application/xml"), 415, "not supported"),
        (post(b"1,nan", b"text/csv"), 400, "NaN or infinity"),
        (post(ROW, extra=b"Accept: image/png\r\n"), 406, "cannot answer"),
    ]
    for raw, expected, text in cases:
        ((head, body),) = exchange(server.port, raw)
        assert status(head) == expected and text in orjson.loads(body)["error"], (raw, head, body)
    # the connection and the worker stay up: a good request on the same server still answers
    assert status(exchange(server.port, post(ROW))[0][0]) == 200


def test_a_client_gone_while_its_request_is_in_the_model_leaves_the_worker_serving(start_server):
    server = start_server("sklearn", MODELFLEET_HANDLER=SLOW, SLOW_SECONDS="0.3")
    server.wait_until_ready()
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(post(b"[[1, 2]]"))
        time.sleep(0.05)  # in the model now
    ((head, body),) = exchange(server.port, post(b"[[3, 4]]"))
    assert status(head) == 200 and orjson.loads(body)["predictions"] == [[7.0]]


# In-process: the application's side of the fast path, with the loop driven by the test.


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return loaded_app(tmp_path_factory, "now-app", queue_deadline_ms=50)


def invoke_now(app: ServingApp, body: bytes, content_type: bytes = b"application/json", respond=None) -> list:
    """``invoke_now`` on a fresh loop; every reply its ``respond`` got (or, given ``respond``, what the
    loop's exception handler caught), after the loop settles."""
    seen: list = []
    loop = asyncio.new_event_loop()
    loop.set_exception_handler(lambda _, context: seen.append(context["exception"]))
    app.batcher.loop = loop

    async def scenario():
        headers = {b"content-type": content_type, b"content-length": str(len(body)).encode()}
        app.invoke_now(headers, body, loop.time(), respond or (lambda *reply: seen.append(reply)))
        for _ in range(20):  # the batch's pass, the model, the done callback
            await asyncio.sleep(0)

    try:
        loop.run_until_complete(scenario())
    finally:
        app.batcher.loop = None
        loop.close()
    return seen


def test_invoke_now_answers_once_through_respond_and_counts_it(app):
    before = dict(app.tally.by_status)
    ((code, head, body),) = invoke_now(app, ROW)
    assert code == 200 and dict(head)[b"content-length"] == str(len(body)).encode()
    assert len(orjson.loads(body)["predictions"][0]) == 2
    assert app.tally.by_status.get(200, 0) == before.get(200, 0) + 1 and app.inflight == 0


def test_a_write_that_fails_in_the_done_callback_still_counts_the_request(app):
    """A connection that fails under the answer's write: the request is counted and no longer in flight."""
    before = app.tally.by_status.get(200, 0)

    def respond(*reply):
        raise RuntimeError("the transport is closed")

    failures = invoke_now(app, ROW, respond=respond)
    assert [type(failure) for failure in failures] == [RuntimeError]  # raised in the batch's done callback
    assert app.inflight == 0 and app.tally.by_status.get(200, 0) == before + 1


def test_invoke_now_refuses_at_once_without_the_model(app):
    ((code, _, body),) = invoke_now(app, b"<x/>", b"application/xml")
    assert code == 415 and "not supported" in orjson.loads(body)["error"]
    app.batcher.seconds_per_row = 1.0  # a second per row ahead: past the 50 ms deadline
    try:
        assert invoke_now(app, ROW) == [SHED_REPLY]
    finally:
        app.batcher.seconds_per_row = 0.0
    assert app.inflight == 0


def test_an_answer_for_a_closed_connection_is_dropped_and_still_counted(start_server):
    """A request in the model, a second one pipelined behind it, then the client goes: uvicorn marks
    only the second as disconnected. The first one's answer has nowhere to go; the worker drops it,
    counts it, and its in-flight gauge returns to zero."""
    import httpx

    server = start_server("sklearn", MODELFLEET_HANDLER=SLOW, SLOW_SECONDS="0.3")
    server.wait_until_ready()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(post(b"[[1, 2]]") + post(b"[[5, 6]]"))
        time.sleep(0.1)  # both read: the first in the model, the second queued behind it
    time.sleep(0.6)  # the model has answered the first request by now
    metrics = httpx.get(f"{server.url}/metrics", timeout=10).text
    inflight = [line for line in metrics.splitlines() if line.startswith("modelfleet_inflight_requests")]
    assert inflight and float(inflight[0].split()[-1]) == 0.0, inflight
    ((head, body),) = exchange(server.port, post(b"[[3, 4]]"))
    assert status(head) == 200 and orjson.loads(body)["predictions"] == [[7.0]]
