"""The text example (TF-IDF and logistic regression) served for real on 127.0.0.1: texts in, labels out."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import orjson
import pytest
from modelfleet_serving.make_examples import NEGATIVE, POSITIVE, make_text
from prometheus_client.parser import text_string_to_metric_families

from tests.model_containers.conftest import Server

CLEAR = {
    "what a wonderful, moving film": "positive",
    "great acting, i loved it": "positive",
    "friendly staff and excellent service": "positive",
    "boring and awful, a waste of money": "negative",
    "it stopped working, terrible quality": "negative",
    "rude staff and a disappointing meal": "negative",
}


@pytest.fixture(scope="module")
def text_server(tmp_path_factory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("text")
    make_text(root / "text")  # text_model.joblib alone: the server picks the text handler from it
    # A few milliseconds of batching delay, so that concurrent requests share model calls.
    server = Server(root / "text", MODELFLEET_MAX_DELAY_MS="20", MODELFLEET_MAX_QUEUE_ROWS="64")
    server.wait_until_ready()
    yield server
    server.stop()


def invoke(server, body, content_type="application/json", accept=None):
    headers = {"content-type": content_type, **({"accept": accept} if accept else {})}
    return httpx.post(f"{server.url}/invocations", content=body, headers=headers, timeout=30)


def predictions(server, texts) -> list[dict]:
    response = invoke(server, orjson.dumps({"instances": texts}))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()["predictions"]


def test_clear_reviews_get_their_label_and_probabilities(text_server):
    answers = predictions(text_server, list(CLEAR))
    assert [a["label"] for a in answers] == list(CLEAR.values())
    for answer in answers:
        assert set(answer["scores"]) == {"negative", "positive"}
        assert abs(sum(answer["scores"].values()) - 1) < 1e-9
        assert answer["scores"][answer["label"]] > 0.5


def test_the_training_reviews_are_told_apart(text_server):
    answers = predictions(text_server, [*POSITIVE, *NEGATIVE])
    assert [a["label"] for a in answers] == ["positive"] * len(POSITIVE) + ["negative"] * len(NEGATIVE)


def test_plain_text_and_both_json_shapes_give_the_same_answers(text_server):
    texts = list(CLEAR)
    as_json = predictions(text_server, texts)
    as_inputs = invoke(text_server, orjson.dumps({"inputs": texts})).json()["predictions"]
    as_list = invoke(text_server, orjson.dumps(texts)).json()["predictions"]
    as_lines = invoke(text_server, "\n".join(texts).encode(), "text/plain; charset=utf-8").json()[
        "predictions"
    ]
    assert as_json == as_inputs == as_list == as_lines


def test_concurrent_requests_share_model_calls_and_each_gets_its_own_answer(text_server):
    texts = list(CLEAR) * 4
    alone = [predictions(text_server, [text])[0] for text in texts[: len(CLEAR)]]
    with ThreadPoolExecutor(len(texts)) as pool:
        together = list(pool.map(lambda text: predictions(text_server, [text])[0], texts))
    assert together == alone * 4
    families = {
        f.name: f for f in text_string_to_metric_families(httpx.get(f"{text_server.url}/metrics").text)
    }
    sizes = {
        s.labels["le"]: s.value
        for s in families["modelfleet_batch_size"].samples
        if s.name.endswith("_bucket")
    }
    assert sizes["1.0"] < sizes["+Inf"]  # some model calls held more than one request's text


MISTAKES = [
    (b"[[0.1, 0.2]]", "application/json", None, 400, "instances[0] is a list, not a string"),
    (b'{"instances": "one text"}', "application/json", None, 400, "non-empty list of strings"),
    (b'{"text": ["a"]}', "application/json", None, 400, '"instances"'),
    (b'{"instances": [', "application/json", None, 400, "not valid JSON"),
    (b"\xff\xfe\xfd", "text/plain", None, 400, "not UTF-8"),
    (b"\n\n", "text/plain", None, 400, "non-blank line"),
    (b"0.1,0.2", "text/csv", None, 415, "this model takes text: use one of application/json, text/plain"),
    (b"\x93NUMPY", "application/x-npy", None, 415, "not supported"),
    (b'["fine"]', "application/json", "text/csv", 406, "offered: application/json"),
    (orjson.dumps(["a review"] * 65), "application/json", None, 413, "65 items in one request"),
]


def test_client_mistakes_are_4xx_with_a_reason_and_the_server_stays_up(text_server):
    for body, content_type, accept, status, message in MISTAKES:
        response = invoke(text_server, body, content_type, accept)
        assert (response.status_code, message in response.json()["error"]) == (status, True), response.text
    assert httpx.get(f"{text_server.url}/ping").json() == {"status": "ok"}
    assert predictions(text_server, ["great acting, i loved it"])[0]["label"] == "positive"
    families = {
        f.name: f for f in text_string_to_metric_families(httpx.get(f"{text_server.url}/metrics").text)
    }
    statuses = {
        s.labels["status"] for s in families["modelfleet_requests"].samples if s.name.endswith("_total")
    }
    assert {"200", "400", "406", "413", "415"} <= statuses and "500" not in statuses
