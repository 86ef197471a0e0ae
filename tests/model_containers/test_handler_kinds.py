"""A handler of each payload kind, served by the real ASGI app in this process (no port, no uvicorn).

load() once before ready; codecs by content type and kind; text and records
batched across requests, bytes one request per call; every client mistake a
4xx, every model failure a 500 with a request id, and the app serving on after.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import tempfile
from dataclasses import dataclass

import numpy as np
import orjson
import pytest

os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="modelfleet-test-metrics-"))

from modelfleet_serving import codecs
from modelfleet_serving.app import ServingApp
from modelfleet_serving.config import ServerConfig
from modelfleet_serving.handler_api import PayloadKind
from modelfleet_serving.handlers import SklearnHandler, load_handler
from modelfleet_serving.make_examples import make_sklearn

from tests.conftest import ROOT
from tests.model_containers.conftest import run

FAKES = "tests.model_containers.fake_handlers"


@dataclass
class Answer:
    status: int
    headers: dict[bytes, bytes]
    body: bytes

    def json(self):
        return orjson.loads(self.body)


async def request(app, body=b"", content_type="application/json", accept=None, method="POST", path=None):
    headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    headers += [(b"accept", accept.encode())] if accept else []
    sent = []

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path or "/invocations", "headers": headers}
    await app(scope, receive, send)
    start, content = sent
    return Answer(start["status"], dict(start["headers"]), content["body"])


def ask(app, *args, **kwargs) -> Answer:
    return run(request(app, *args, **kwargs))


@pytest.fixture
def serve(tmp_path, monkeypatch):
    """A loaded app for a handler (``module:Class``) or a model directory."""
    monkeypatch.setattr("modelfleet_serving.app.gc.freeze", lambda: None)  # not the test process's objects

    def build(handler: str | None = None, model_dir=None, load=True, **settings) -> ServingApp:
        app = ServingApp(ServerConfig(model_dir=model_dir or tmp_path, handler=handler, **settings))
        if load:
            app._load()
        return app

    return build


@pytest.mark.parametrize(
    ("name", "kind"),
    [("DoubleRows", "array"), ("ShoutText", "text"), ("PriceRecords", "records"), ("MeasureBytes", "bytes")],
)
def test_each_kind_loads_once_and_is_ready_only_after(serve, name, kind):
    app = serve(f"{FAKES}:{name}", load=False)
    assert ask(app, method="GET", path="/ping").status == 503
    loading = ask(app, b"[]")
    assert (loading.status, loading.headers[b"retry-after"]) == (503, b"1")
    app._load()
    assert ask(app, method="GET", path="/ping").json() == {"status": "ok"}
    assert (app.model.kind, app.model.handler.loads) == (PayloadKind(kind), 1)


def test_an_array_handler_of_the_new_kind_answers_in_every_array_type(serve):
    app = serve(f"{FAKES}:DoubleRows")
    assert ask(app, b'{"instances": [[1, 2], [3, 4]]}').json() == {"predictions": [[2.0, 4.0], [6.0, 8.0]]}
    assert ask(app, b"1,2,3", "text/csv").body == b"2.0,4.0,6.0\n"  # n_features None: any width
    buffer = io.BytesIO()
    np.save(buffer, np.ones((2, 5)))
    answer = ask(app, buffer.getvalue(), "application/x-npy", accept="application/x-npy")
    assert np.array_equal(np.load(io.BytesIO(answer.body)), np.full((2, 5), 2.0))


def test_a_text_handler_takes_json_and_plain_text_alike(serve):
    app = serve(f"{FAKES}:ShoutText")
    expected = {"predictions": [{"text": "GOOD FILM", "length": 9}, {"text": "BAD, SLOW", "length": 9}]}
    assert ask(app, b'{"instances": ["good film", "bad, slow"]}').json() == expected
    assert ask(app, b'{"inputs": ["good film", "bad, slow"]}').json() == expected
    assert ask(app, b"good film\r\nbad, slow\n", "text/plain; charset=utf-8").json() == expected
    answer = ask(app, b"good film\nbad, slow", "text/plain", accept="*/*")
    assert answer.headers[b"content-type"] == b"application/json" and answer.json() == expected


def test_a_records_handler_takes_json_and_json_lines_and_its_validate_makes_a_400(serve):
    app = serve(f"{FAKES}:PriceRecords")
    body = b'{"instances": [{"price": 2.5, "quantity": 4}, {"price": 1, "quantity": 3, "note": "x"}]}'
    assert ask(app, body).json() == {"predictions": [10.0, 3.0]}
    lines = b'{"price": 2.5, "quantity": 4}\n{"price": 1, "quantity": 3}\n'
    assert ask(app, lines, "application/jsonlines").json() == {"predictions": [10.0, 3.0]}
    refused = ask(app, b'[{"price": 1, "quantity": 2}, {"price": "free"}]')
    assert (refused.status, refused.json()) == (400, {"error": "record 1 needs a number in 'price'"})
    assert app.model.handler.sizes == [2, 2]  # the refused request never reached the model


def test_a_bytes_handler_gets_the_raw_body_of_its_media_types(serve):
    app = serve(f"{FAKES}:MeasureBytes")
    body = bytes([1, 2, 3, 250])
    expected = {"predictions": {"size": 4, "first": 1, "mean": 64.0}}
    assert ask(app, body, "application/octet-stream").json() == expected
    assert ask(app, body, "image/png").json() == expected
    unsupported = ask(app, body, "text/plain")
    assert unsupported.status == 415 and "image/png" in unsupported.json()["error"]
    assert ask(app, b"", "application/octet-stream").status == 400


def concurrently(app, bodies, content_type="application/json"):
    async def all_at_once():
        return await asyncio.gather(*(request(app, body, content_type) for body in bodies))

    return run(all_at_once())


def test_text_and_records_requests_share_model_calls_and_get_their_own_answers(serve):
    app = serve(f"{FAKES}:ShoutText")
    texts = [[f"request {n} text {i}" for i in range(n + 1)] for n in range(6)]  # 21 texts in 6 requests
    answers = concurrently(app, [orjson.dumps({"instances": t}) for t in texts])
    for sent, answer in zip(texts, answers, strict=True):
        assert [p["text"] for p in answer.json()["predictions"]] == [t.upper() for t in sent]
    assert sum(app.model.handler.sizes) == 21 and len(app.model.handler.sizes) < 6  # batched

    app = serve(f"{FAKES}:PriceRecords")
    answers = concurrently(app, [orjson.dumps([{"price": n, "quantity": 2}]) for n in range(5)])
    assert [a.json()["predictions"] for a in answers] == [[2 * n] for n in range(5)]
    assert len(app.model.handler.sizes) < 5


def test_bytes_requests_are_one_per_model_call(serve):
    app = serve(f"{FAKES}:MeasureBytes")
    answers = concurrently(app, [bytes([n]) * (n + 1) for n in range(4)], "application/octet-stream")
    assert [a.json()["predictions"]["size"] for a in answers] == [1, 2, 3, 4]
    assert app.model.handler.sizes == [1, 1, 1, 1]


CLIENT_MISTAKES = [
    ("ShoutText", b"[[1, 2]]", "application/json", None, 400, "instances[0] is a list, not a string"),
    ("ShoutText", b"{nope", "application/json", None, 400, "not valid JSON"),
    ("ShoutText", b"a,b", "text/csv", None, 415, "this model takes text"),
    ("ShoutText", b'["a"]', "application/json", "text/csv", 406, "offered: application/json"),
    ("ShoutText", b'["a"]', "application/json", "application/x-npy", 406, "cannot answer"),
    ("ShoutText", b'["' + b"x" * 5000 + b'"]', "application/json", None, 413, "payload over"),
    ("ShoutText", b'["a", "b", "c", "d", "e"]', "application/json", None, 413, "5 items in one request"),
    ("PriceRecords", b'["a"]', "application/json", None, 400, "is a string, not an object"),
    ("PriceRecords", b"[1]\n", "application/jsonlines", None, 400, "is a list, not an object"),
    ("MeasureBytes", b"\x00", "application/json", None, 415, "application/octet-stream, image/png"),
    ("DoubleRows", b'["text"]', "application/json", None, 400, "numbers only"),
    ("DoubleRows", b"a line", "text/plain", None, 415, "this model takes array"),
]


@pytest.mark.parametrize(("name", "body", "content_type", "accept", "status", "message"), CLIENT_MISTAKES)
def test_client_mistakes_are_4xx_json_errors_and_the_app_serves_on(
    serve, name, body, content_type, accept, status, message
):
    app = serve(f"{FAKES}:{name}", max_payload_bytes=4096, max_queue_rows=4)
    refused = ask(app, body, content_type, accept)
    assert refused.status == status and message in refused.json()["error"], refused.body
    assert refused.headers[b"content-type"] == b"application/json"
    assert ask(app, method="GET", path="/ping").status == 200
    assert app.model.handler.sizes == []  # no client mistake reaches the model


@pytest.mark.parametrize("text", ["boom", "short", "object"])
def test_a_model_that_raises_or_answers_wrongly_is_a_500_with_a_request_id(serve, text):
    app = serve(f"{FAKES}:ShoutText")
    failed = ask(app, orjson.dumps([text]))
    assert failed.status == 500 and re.fullmatch(r"[0-9a-f]{32}", failed.json()["request_id"])
    assert ask(app, b'["fine"]').json() == {"predictions": [{"text": "FINE", "length": 4}]}


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("FailsToLoad", "OSError: artifact missing"),
        ("WithoutMethod", "WithoutMethod is a text handler without a predict_batch() method"),
        ("NotCallable", "NotCallable is a bytes handler without a predict() method"),
    ],
)
def test_a_handler_that_cannot_load_is_never_ready(serve, name, error):
    app = serve(f"{FAKES}:{name}")
    assert error in app.load_error
    assert ask(app, method="GET", path="/ping").status == 503
    assert ask(app, b'["a"]').status == 503


def test_a_handler_written_before_kinds_is_an_array_handler(serve):
    app = serve(f"{FAKES}:SlowHandler")  # no kind, no load(): loads in __init__
    assert (app.model.kind, app.model.n_features) == (PayloadKind.ARRAY, 2)
    assert ask(app, b"[[1, 2]]").json() == {"predictions": [[3.0]]}
    wrong = ask(app, b"[[1, 2, 3]]")
    assert (wrong.status, wrong.json()["error"]) == (400, "each row needs 2 features, got 3")


def test_numeric_answers_are_the_array_handlers_output_encoded_as_before(serve, tmp_path):
    model_dir = make_sklearn(tmp_path / "sklearn")
    app = serve(model_dir=model_dir)
    assert isinstance(app.model.handler, SklearnHandler) and app.model.n_features == 16
    rows = np.random.default_rng(3).standard_normal((3, 16))
    expected = load_handler(model_dir).predict_batch(rows)
    csv = "\n".join(",".join(map(repr, row)) for row in rows.tolist()).encode()
    for accept in codecs.SUPPORTED:
        assert ask(app, csv, "text/csv", accept=accept).body == codecs.encode(expected, accept)


HANDLER_EXAMPLES = [
    (
        "model_containers/README.md",
        {"keywords.txt": "refund\nbroken\n"},
        (b"my order arrived broken\nthanks, all good\n", "text/plain"),
        [{"flagged": True}, {"flagged": False}],
    ),
    (
        "docs/serving-container.md",
        {"prices.json": '{"apple": 0.5, "pear": 0.75}'},
        (b'{"instances": [{"items": ["apple", "pear", "apple"]}, {"items": []}]}', "application/json"),
        [1.75, 0.0],
    ),
]


@pytest.mark.parametrize(("document", "files", "sent", "expected"), HANDLER_EXAMPLES, ids=["readme", "docs"])
def test_the_documented_handler_examples_serve_as_written(
    serve, tmp_path, monkeypatch, document, files, sent, expected
):
    text = (ROOT / document).read_text()
    section = text[text.index("## Writing a handler") :]
    code = re.search(r"```python\n(.*?)```", section, flags=re.S).group(1)
    name = re.search(r"^class (\w+)\(", code, flags=re.M).group(1)
    module = f"documented_{name.lower()}"
    (tmp_path / f"{module}.py").write_text(code)
    monkeypatch.syspath_prepend(str(tmp_path))
    for file, content in files.items():
        (tmp_path / file).write_text(content)
    app = serve(f"{module}:{name}")
    answer = ask(app, *sent)
    assert (answer.status, answer.json()) == (200, {"predictions": expected})
