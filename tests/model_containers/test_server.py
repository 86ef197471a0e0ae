"""The model server over real HTTP on 127.0.0.1: the SageMaker contract and every error path."""

from __future__ import annotations

import io
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
from prometheus_client.parser import text_string_to_metric_families

SLOW = "tests.model_containers.fake_handlers:SlowHandler"
ROW = [float(i) for i in range(16)]


def invoke(server, body, content_type="application/json", accept=None, **kwargs):
    headers = {"content-type": content_type, **({"accept": accept} if accept else {})}
    return httpx.post(f"{server.url}/invocations", content=body, headers=headers, timeout=30, **kwargs)


def test_ping_and_json_invocation(sklearn_server):
    assert httpx.get(f"{sklearn_server.url}/ping").json() == {"status": "ok"}
    response = invoke(sklearn_server, b'{"instances": ' + _json(ROW) + b"}")
    assert response.status_code == 200
    (row,) = response.json()["predictions"]
    assert len(row) == 2 and abs(sum(row) - 1) < 1e-9


def test_each_content_type_and_accept_negotiation(sklearn_server):
    csv = ("\n".join([",".join(map(str, ROW))] * 3)).encode()
    as_csv = invoke(sklearn_server, csv, "text/csv", accept="text/csv")
    assert as_csv.headers["content-type"] == "text/csv" and len(as_csv.text.strip().splitlines()) == 3
    buffer = io.BytesIO()
    np.save(buffer, np.array([ROW, ROW]))
    as_npy = invoke(sklearn_server, buffer.getvalue(), "application/x-npy", accept="application/x-npy")
    assert np.load(io.BytesIO(as_npy.content)).shape == (2, 2)
    negotiated = invoke(sklearn_server, csv, "text/csv", accept="image/png;q=1, application/json;q=0.5")
    assert negotiated.headers["content-type"] == "application/json"
    as_json = negotiated.json()["predictions"]
    assert np.allclose(as_json, [[float(v) for v in line.split(",")] for line in as_csv.text.split()])


def test_client_mistakes_are_4xx_with_a_reason(sklearn_server):
    cases = [
        (b"{nope", "application/json", None, 400, "body is not valid JSON"),
        (b'{"rows": []}', "application/json", None, 400, '"instances"'),
        (b"[[1, 2]]", "application/json", None, 400, "each row needs 16 features, got 2"),
        (b'[["a"] ]', "application/json", None, 400, "numbers only"),
        (b"1,2\n1,2,3", "text/csv", None, 400, "different numbers of columns"),
        (b"\x93NUMPY garbage", "application/x-npy", None, 400, "not a .npy array"),
        (b"<x/>", "application/xml", None, 415, "not supported"),
        (b"[[1]]", "application/json", "image/png", 406, "cannot answer"),
    ]
    for body, content_type, accept, status, text in cases:
        response = invoke(sklearn_server, body, content_type, accept)
        assert (response.status_code, text in response.json()["error"]) == (status, True), (
            body,
            response.text,
        )
    assert httpx.get(f"{sklearn_server.url}/invocations").status_code == 405
    assert httpx.get(f"{sklearn_server.url}/ping").status_code == 200  # still serving


def test_oversized_payloads_are_refused_before_reading(start_server):
    server = start_server(SAGEMAKER_MAX_PAYLOAD_IN_MB="1")
    server.wait_until_ready()
    declared = invoke(server, b"x" * (1024 * 1024 + 1))
    assert declared.status_code == 413

    def chunks():
        for _ in range(20):
            yield b"0" * 100_000

    chunked = httpx.post(f"{server.url}/invocations", content=chunks(), headers={"content-type": "text/csv"})
    assert chunked.status_code == 413


def test_a_model_exception_is_a_500_with_a_request_id_and_the_worker_survives(start_server):
    server = start_server(MODELFLEET_HANDLER=SLOW)
    server.wait_until_ready()
    failed = invoke(server, b"[[666, 1]]")
    assert failed.status_code == 500 and len(failed.json()["request_id"]) == 32
    assert invoke(server, b"[[1, 2]]").json() == {"predictions": [[3.0]]}


def test_a_model_slower_than_the_timeout_is_a_504_and_the_worker_survives(start_server):
    server = start_server(MODELFLEET_HANDLER=SLOW, SLOW_SECONDS="2", SAGEMAKER_MODEL_SERVER_TIMEOUT="1")
    server.wait_until_ready()
    late = invoke(server, b"[[1, 2]]")
    assert late.status_code == 504 and "within 1 s" in late.json()["error"]
    assert httpx.get(f"{server.url}/ping").status_code == 200


def test_queue_full_sheds_fast_with_retry_after(start_server):
    server = start_server(MODELFLEET_HANDLER=SLOW, SLOW_SECONDS="0.5", MODELFLEET_MAX_QUEUE_ROWS="2")
    server.wait_until_ready()
    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda _: invoke(server, b"[[1, 2]]"), range(8)))
    shed = [r for r in responses if r.status_code == 503]
    assert shed and all(r.headers["retry-after"] == "1" for r in shed)
    assert {r.status_code for r in responses} <= {200, 503}


def test_ping_answers_while_inference_runs_and_503s_while_loading(start_server):
    server = start_server(MODELFLEET_HANDLER=SLOW, SLOW_SECONDS="2", SLOW_LOAD_SECONDS="1")
    server.wait_until_listening()
    assert httpx.get(f"{server.url}/ping").status_code == 503  # listening, still loading
    server.wait_until_ready()
    busy = threading.Thread(target=invoke, args=(server, b"[[1, 2]]"))
    busy.start()
    time.sleep(0.3)
    assert httpx.get(f"{server.url}/ping", timeout=2).status_code == 200  # not behind the model
    busy.join()


def test_batched_results_equal_unbatched_ones(start_server, examples):
    from modelfleet_serving.handlers import load_handler

    server = start_server("mlp", MODELFLEET_MAX_DELAY_MS="50")
    server.wait_until_ready()
    rows = np.random.default_rng(7).standard_normal((24, 64))
    with ThreadPoolExecutor(24) as pool:
        answers = list(pool.map(lambda row: invoke(server, _json(row)), rows))
    expected = load_handler(examples / "mlp").predict_batch(rows)
    got = np.array([a.json()["predictions"][0] for a in answers])
    assert np.array_equal(got, expected)
    families = {f.name: f for f in text_string_to_metric_families(httpx.get(f"{server.url}/metrics").text)}
    sizes = {
        s.labels.get("le"): s.value
        for s in families["modelfleet_batch_size"].samples
        if s.name.endswith("_bucket")
    }
    assert sizes["1.0"] < sizes["+Inf"]  # some batches held more than one request


def _json(row):
    return ("[[" + ",".join(repr(float(v)) for v in row) + "]]").encode()


def test_cache_answers_a_repeated_request(sklearn_server):
    body = _json(np.array(ROW) + 0.5)
    first, second = invoke(sklearn_server, body), invoke(sklearn_server, body)
    assert "x-cache" not in first.headers and second.headers["x-cache"] == "hit"
    assert first.content == second.content
    assert (
        invoke(sklearn_server, body, accept="text/csv").headers.get("x-cache") is None
    )  # keyed by Accept too


def test_metrics_parse_and_count_requests_by_status(sklearn_server):
    invoke(sklearn_server, b"[[1]]")
    invoke(sklearn_server, _json(ROW))
    text = httpx.get(f"{sklearn_server.url}/metrics").text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    statuses = {
        s.labels["status"] for s in families["modelfleet_requests"].samples if s.name.endswith("_total")
    }
    assert {"200", "400"} <= statuses
    assert {
        "modelfleet_inflight_requests",
        "modelfleet_queue_depth",
        "modelfleet_request_duration_seconds",
    } <= set(families)


def test_sigterm_drains_requests_in_flight_then_exits(start_server):
    server = start_server(MODELFLEET_HANDLER=SLOW, SLOW_SECONDS="1.5")
    server.wait_until_ready()
    with ThreadPoolExecutor(3) as pool:
        pending = [pool.submit(invoke, server, b"[[1, 2]]") for _ in range(3)]
        time.sleep(0.4)
        stopped = time.monotonic()
        code = server.stop()
        results = [f.result() for f in pending]
    assert [r.status_code for r in results] == [200, 200, 200]  # each took 1.5 s, begun before SIGTERM
    # uvicorn drains, then re-raises SIGTERM: the conventional "stopped by SIGTERM" status (143 in a container).
    assert code in (0, -15)
    assert time.monotonic() - stopped < 30
