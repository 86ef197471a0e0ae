"""The queue bounded by time: a request past its deadline is refused and never run; the expected wait
refuses early; nothing changes when the deadline is unset. A fake clock drives every case."""

from __future__ import annotations

import asyncio
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import orjson
import pytest

os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="modelfleet-test-metrics-"))

from modelfleet_serving.app import ServingApp
from modelfleet_serving.batching import Batcher
from modelfleet_serving.config import ConfigError, ServerConfig
from modelfleet_serving.errors import QueueFull

from tests.model_containers.conftest import loaded_app, run


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class SlowModel:
    """Each call moves the fake clock on by ``seconds_per_row`` for every row, and records the rows."""

    def __init__(self, clock: FakeClock, seconds_per_row: float) -> None:
        self.clock, self.seconds_per_row, self.calls = clock, seconds_per_row, []

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        self.calls.append(rows[:, 0].tolist())
        self.clock.now += self.seconds_per_row * len(rows)
        return rows


def batcher(model, clock: FakeClock, deadline: float | None, **settings) -> Batcher:
    return Batcher(model, ThreadPoolExecutor(1), queue_deadline_seconds=deadline, clock=clock, **settings)


def row(value: float) -> np.ndarray:
    return np.full((1, 1), value)


def test_a_request_queued_past_its_deadline_is_refused_and_never_run():
    clock = FakeClock()
    model = SlowModel(clock, seconds_per_row=0.5)  # the first request's batch outlasts the second's deadline
    queue = batcher(model, clock, deadline=0.1, max_batch_size=1)

    async def scenario():
        return await asyncio.gather(queue.submit(row(1)), queue.submit(row(2)), return_exceptions=True)

    first, second = run(scenario())
    assert first.tolist() == [[1.0]]
    assert isinstance(second, QueueFull) and "past its deadline" in str(second)
    assert model.calls == [[1.0]]  # the late one never reached the model
    assert queue.queued_rows == 0


def test_the_pace_is_measured_while_the_queue_is_backlogged():
    clock = FakeClock()
    model = SlowModel(clock, seconds_per_row=0.01)
    queue = batcher(model, clock, deadline=10.0, max_batch_size=2)

    async def scenario():
        return await asyncio.gather(*(queue.submit(row(v)) for v in range(6)))

    assert [r.tolist() for r in run(scenario())] == [[[float(v)]] for v in range(6)]
    assert model.calls == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]
    assert queue.seconds_per_row == pytest.approx(0.01)  # batch start to batch start, over its rows


def test_submit_refuses_at_once_when_the_expected_wait_exceeds_the_deadline():
    clock = FakeClock()
    model = SlowModel(clock, seconds_per_row=0.0)
    queue = batcher(model, clock, deadline=0.05)
    queue.seconds_per_row = 0.01  # as measured under load

    async def scenario():
        waiting = [asyncio.create_task(queue.submit(row(v))) for v in range(5)]
        await asyncio.sleep(0)  # five rows queued: 0.05 s of work ahead, the drainer not yet run
        assert queue.queued_rows == 5 and queue.saturated()  # what the server checks before decoding
        with pytest.raises(QueueFull, match="would start past its 50 ms"):
            await queue.submit(row(99))  # a sixth row would wait 0.06 s
        return await asyncio.gather(*waiting)

    assert len(run(scenario())) == 5
    assert [v for call in model.calls for v in call] == [0.0, 1.0, 2.0, 3.0, 4.0]  # never the refused one


def test_without_a_deadline_neither_the_wait_nor_the_pace_refuses_anything():
    clock = FakeClock()
    model = SlowModel(clock, seconds_per_row=5.0)  # every batch far slower than any deadline
    queue = batcher(model, clock, deadline=None, max_batch_size=1)
    queue.seconds_per_row = 100.0

    async def scenario():
        assert not queue.saturated()
        return await asyncio.gather(*(queue.submit(row(v)) for v in range(3)))

    assert [r.tolist() for r in run(scenario())] == [[[0.0]], [[1.0]], [[2.0]]]
    assert model.calls == [[0.0], [1.0], [2.0]]


def test_the_setting_is_read_in_milliseconds_and_off_when_unset(monkeypatch):
    assert ServerConfig.from_env().queue_deadline_ms == 0
    monkeypatch.setenv("MODELFLEET_QUEUE_DEADLINE_MS", "250")
    assert ServerConfig.from_env().queue_deadline_ms == 250.0
    monkeypatch.setenv("MODELFLEET_QUEUE_DEADLINE_MS", "soon")
    with pytest.raises(ConfigError, match="MODELFLEET_QUEUE_DEADLINE_MS must be a number"):
        ServerConfig.from_env()


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return loaded_app(tmp_path_factory, "deadline", queue_deadline_ms=50)


def invoke(app: ServingApp) -> list[dict]:
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"[" + b",".join([b"0.5"] * 16) + b"]", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/invocations",
             "headers": [(b"content-type", b"application/json")]}  # fmt: skip
    run(app(scope, receive, send))
    return sent


def test_the_server_answers_a_refusal_503_with_retry_after_and_a_json_reason(app):
    assert app.batcher.queue_deadline == 0.05
    assert invoke(app)[0]["status"] == 200  # an idle queue admits
    app.batcher.seconds_per_row = 1.0  # a second of work per row ahead: beyond 50 ms
    try:
        start, body = invoke(app)
    finally:
        app.batcher.seconds_per_row = 0.0
    headers = dict(start["headers"])
    assert start["status"] == 503 and headers[b"retry-after"] == b"1"
    assert headers[b"content-type"] == b"application/json"
    assert orjson.loads(body["body"]) == {"error": "server is at capacity, retry shortly"}


def test_the_deadline_runs_from_when_the_server_read_the_request():
    clock = FakeClock()
    model = SlowModel(clock, seconds_per_row=0.0)
    queue = batcher(model, clock, deadline=0.05)

    async def scenario():
        assert queue.saturated(received_at=clock.now - 0.06)  # read 60 ms ago: already past 50 ms
        assert not queue.saturated(received_at=clock.now - 0.01)
        with pytest.raises(QueueFull):
            await queue.submit(row(1), received_at=clock.now - 0.06)
        return await queue.submit(row(2), received_at=clock.now - 0.01)

    assert run(scenario()).tolist() == [[2.0]]
    assert model.calls == [[2.0]]
