"""The request parsers under property-based fuzzing: no input may cause anything but a 4xx."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="modelfleet-test-metrics-"))

from modelfleet_serving import codecs
from modelfleet_serving.batching import Batcher, QueueFull
from modelfleet_serving.cache import ResponseCache
from modelfleet_serving.config import usable_cpus

from tests.model_containers.conftest import loaded_app, run

CLIENT_ERRORS = (codecs.BadRequest, codecs.UnsupportedMediaType, codecs.NotAcceptable)


@given(st.binary(max_size=2048), st.sampled_from(codecs.SUPPORTED))
@settings(max_examples=300, deadline=None)
def test_decoding_any_bytes_is_an_array_or_a_bad_request(body, content_type):
    try:
        rows = codecs.decode(body, content_type)
    except codecs.BadRequest:
        return
    assert rows.ndim == 2 and np.isfinite(rows).all()


@given(st.text(max_size=200), st.sampled_from(codecs.SUPPORTED))
@settings(max_examples=300, deadline=None)
def test_any_accept_header_negotiates_or_is_not_acceptable(accept, content_type):
    with contextlib.suppress(codecs.NotAcceptable):
        assert codecs.negotiate(accept, content_type) in codecs.SUPPORTED


@given(st.lists(st.lists(st.floats(allow_nan=False, allow_infinity=False, width=32), min_size=1, max_size=4),
                min_size=1, max_size=4).filter(lambda rows: len({len(r) for r in rows}) == 1))  # fmt: skip
def test_every_encoding_round_trips(rows):
    array = np.array(rows, dtype=np.float64)
    for kind in codecs.SUPPORTED:
        encoded = codecs.encode(array, kind)
        if kind == codecs.JSON:
            encoded = encoded.replace(b'{"predictions":', b'{"instances":')
        assert np.array_equal(codecs.decode(encoded, kind), array)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return loaded_app(tmp_path_factory, "fuzz", max_payload_bytes=4096)


def call(app, method, path, headers, body):
    sent = []

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "headers": headers}
    run(app(scope, receive, send))
    return sent[0]["status"]


header = st.tuples(st.sampled_from([b"content-type", b"accept", b"content-length", b"x-other"]),
                   st.binary(max_size=40))  # fmt: skip


@given(st.sampled_from(["GET", "POST", "PUT"]), st.sampled_from(["/invocations", "/ping", "/x"]),
       st.lists(header, max_size=4), st.binary(max_size=600))  # fmt: skip
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_no_request_produces_a_server_error(app, method, path, headers, body):
    assert call(app, method, path, headers, body) < 500


def test_cache_is_bounded_by_entries_bytes_and_time(monkeypatch):
    cache = ResponseCache(max_entries=2, max_bytes=10, ttl_seconds=60)
    for key, value in ((b"a", b"1234"), (b"b", b"5678"), (b"c", b"90")):
        cache.put(key, value)
    assert cache.get(b"a") is None and cache.get(b"b") == b"5678" and len(cache) == 2
    cache.put(b"d", b"123456789")  # pushes others out to stay under 10 bytes
    assert cache.get(b"b") is None and cache.get(b"d") == b"123456789"
    clock = [1000.0]
    monkeypatch.setattr("modelfleet_serving.cache.time.monotonic", lambda: clock[0])
    cache.put(b"e", b"x")
    clock[0] += 61
    assert cache.get(b"e") is None


def test_batcher_refuses_rows_beyond_its_queue():
    from concurrent.futures import ThreadPoolExecutor

    async def scenario():
        batcher = Batcher(lambda rows: rows, ThreadPoolExecutor(1), max_queue_rows=1)
        with pytest.raises(QueueFull):
            await batcher.submit(np.zeros((2, 1)))
        return await batcher.submit(np.ones((1, 1)))

    assert run(scenario()).tolist() == [[1.0]]


def test_a_request_read_in_the_next_loop_pass_joins_the_batch():
    from concurrent.futures import ThreadPoolExecutor

    calls = []

    def model(rows):
        calls.append(len(rows))
        return rows

    async def scenario():
        batcher = Batcher(model, ThreadPoolExecutor(1))
        first = asyncio.create_task(batcher.submit(np.ones((1, 1))))
        await asyncio.sleep(0)  # the first request is queued and the batch is about to start
        second = asyncio.create_task(batcher.submit(np.full((1, 1), 2.0)))
        return [r.tolist() for r in await asyncio.gather(first, second)]

    assert run(scenario()) == [[[1.0]], [[2.0]]]
    assert calls == [2]  # one model call for both


def test_batcher_times_out_requests_in_the_model_and_queued_behind_it():
    import time
    from concurrent.futures import ThreadPoolExecutor

    calls = []

    def stuck(rows):
        calls.append(len(rows))
        time.sleep(0.5)
        return rows

    async def scenario():
        batcher = Batcher(stuck, ThreadPoolExecutor(1), max_batch_size=1, timeout_seconds=0.05)
        results = await asyncio.gather(
            *(batcher.submit(np.ones((1, 1))) for _ in range(3)), return_exceptions=True
        )
        while batcher._running:  # the model call outlives the timeout; let it finish
            await asyncio.sleep(0.05)
        return results, batcher.queued_rows

    results, queued = run(scenario())
    assert [type(r) for r in results] == [TimeoutError] * 3
    assert (calls, queued) == ([1], 0)  # the two queued ones expired and never reached the model


def test_usable_cpus_respects_affinity():
    assert 1 <= usable_cpus() <= len(os.sched_getaffinity(0))


def test_the_model_archive_unpacks_and_refuses_escaping_paths(tmp_path):
    import io
    import tarfile

    from modelfleet_serving.serve import unpack_archive

    def archive(name: str) -> Path:
        path = tmp_path / f"{abs(hash(name))}.tar.gz"
        with tarfile.open(path, "w:gz") as bundle:
            info = tarfile.TarInfo(name)
            info.size = 2
            bundle.addfile(info, io.BytesIO(b"ok"))
        return path

    unpack_archive(archive("model.joblib"), tmp_path / "model")
    assert (tmp_path / "model" / "model.joblib").read_bytes() == b"ok"
    with pytest.raises(tarfile.FilterError):
        unpack_archive(archive("../escape.txt"), tmp_path / "other")
    assert not (tmp_path / "escape.txt").exists()
