"""Codecs by payload kind and content type: what each decodes to, and every client mistake a 4xx."""

from __future__ import annotations

import io

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from modelfleet_serving import codecs, errors
from modelfleet_serving.handler_api import PayloadKind

ARRAY, TEXT, RECORDS, BYTES = PayloadKind.ARRAY, PayloadKind.TEXT, PayloadKind.RECORDS, PayloadKind.BYTES


def _npy(array) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array))
    return buffer.getvalue()


DECODED = [
    (ARRAY, "application/json", b'{"instances": [[1, 2], [3, 4]]}', [[1.0, 2.0], [3.0, 4.0]]),
    (ARRAY, "application/json", b'{"inputs": [1, 2]}', [[1.0, 2.0]]),
    (ARRAY, "application/json", b"[[1, 2]]", [[1.0, 2.0]]),
    (ARRAY, "text/csv", b"1,2\n3,4\n", [[1.0, 2.0], [3.0, 4.0]]),
    (ARRAY, "application/x-npy", _npy([[1, 2]]), [[1.0, 2.0]]),
    (
        TEXT,
        "application/json",
        '{"instances": ["good", "bad", "ünïcode"]}'.encode(),
        ["good", "bad", "ünïcode"],
    ),
    (TEXT, "application/json", b'{"inputs": ["one"]}', ["one"]),
    (TEXT, "application/json", b'["a, b", ""]', ["a, b", ""]),
    (
        TEXT,
        "text/plain",
        b"first text\r\n\n  \nsecond, with a comma\n",
        ["first text", "second, with a comma"],
    ),
    (TEXT, "text/plain", "tab\there\u2028still one line".encode(), ["tab\there\u2028still one line"]),
    (RECORDS, "application/json", b'{"instances": [{"a": 1}, {"b": [2]}]}', [{"a": 1}, {"b": [2]}]),
    (RECORDS, "application/json", b'[{"a": null}]', [{"a": None}]),
    (RECORDS, "application/jsonlines", b'{"a": 1}\n\n{"a": 2}\n', [{"a": 1}, {"a": 2}]),
]


@pytest.mark.parametrize(("kind", "content_type", "body", "expected"), DECODED)
def test_each_kind_decodes_its_content_types(kind, content_type, body, expected):
    decoded = codecs.decode(body, content_type, kind)
    if kind is ARRAY:
        assert decoded.dtype == np.float64 and decoded.tolist() == expected
    else:
        assert decoded == expected


def test_the_array_kind_is_the_default_and_keeps_its_three_types():
    assert codecs.SUPPORTED == ("application/json", "text/csv", "application/x-npy")
    assert tuple(codecs.decoders(ARRAY)) == codecs.SUPPORTED == codecs.RESPONSE_TYPES[ARRAY]
    assert codecs.decode(b"[[1, 2]]", "application/json").tolist() == [[1.0, 2.0]]


def test_a_bytes_handler_names_its_own_media_types():
    assert set(codecs.decoders(BYTES)) == {"application/octet-stream"}
    decoders = codecs.decoders(BYTES, ("Image/PNG", "application/octet-stream; x=1"))
    assert set(decoders) == {"image/png", "application/octet-stream"}
    assert decoders["image/png"](b"\x89PNG") == b"\x89PNG"


REFUSED = [
    # wrong kind: a body of another kind's shape
    (TEXT, "application/json", b"[[1, 2]]", errors.BadRequest, "instances[0] is a list, not a string"),
    (TEXT, "application/json", b'{"instances": "one text"}', errors.BadRequest, "non-empty list of strings"),
    (RECORDS, "application/json", b'["a"]', errors.BadRequest, "instances[0] is a string, not an object"),
    (RECORDS, "application/json", b'{"inputs": [{"a": 1}, 3]}', errors.BadRequest, "inputs[1] is a number"),
    (ARRAY, "application/json", b'["good"]', errors.BadRequest, "numbers only"),
    # bad JSON, empty, both keys, no key
    (TEXT, "application/json", b'{"instances": [', errors.BadRequest, "not valid JSON"),
    (RECORDS, "application/jsonlines", b'{"a": 1}\n{nope\n', errors.BadRequest, "line 2 is not valid JSON"),
    (RECORDS, "application/jsonlines", b"[1]\n", errors.BadRequest, "JSON lines[0] is a list"),
    (TEXT, "application/json", b"[]", errors.BadRequest, "non-empty list"),
    (TEXT, "application/json", b'{"instances": ["a"], "inputs": ["b"]}', errors.BadRequest, "exactly one"),
    (RECORDS, "application/json", b'{"rows": []}', errors.BadRequest, '"instances"'),
    (TEXT, "text/plain", b"\n  \n", errors.BadRequest, "at least one non-blank line"),
    (TEXT, "text/plain", b"\xff\xfe", errors.BadRequest, "not UTF-8"),
    (BYTES, "application/octet-stream", b"", errors.BadRequest, "empty"),
    # a content type the kind has no codec for
    (TEXT, "text/csv", b"a,b", errors.UnsupportedMediaType, "this model takes text"),
    (RECORDS, "application/x-npy", _npy([1]), errors.UnsupportedMediaType, "application/jsonlines"),
    (ARRAY, "text/plain", b"1,2", errors.UnsupportedMediaType, "text/csv"),
    (BYTES, "application/json", b"{}", errors.UnsupportedMediaType, "application/octet-stream"),
]


@pytest.mark.parametrize(("kind", "content_type", "body", "error", "message"), REFUSED)
def test_client_mistakes_are_typed_4xx_errors_that_say_what_is_wrong(
    kind, content_type, body, error, message
):
    with pytest.raises(error) as raised:
        codecs.decode(body, content_type, kind)
    assert message in str(raised.value)
    assert 400 <= raised.value.status < 500


KINDS_AND_TYPES = [(kind, content_type) for kind, table in codecs.DECODERS.items() for content_type in table]


@given(st.binary(max_size=1024), st.sampled_from(KINDS_AND_TYPES))
@settings(max_examples=400, deadline=None)
def test_any_bytes_decode_to_the_kind_or_a_bad_request(body, kind_and_type):
    kind, content_type = kind_and_type
    try:
        decoded = codecs.decode(body, content_type, kind)
    except errors.BadRequest:
        return
    assert len(decoded) >= 1
    expected = {ARRAY: np.ndarray, TEXT: list, RECORDS: list, BYTES: bytes}[kind]
    assert isinstance(decoded, expected)


@given(st.lists(st.text(max_size=30), min_size=1, max_size=5))
def test_texts_round_trip_through_json(texts):
    assert codecs.decode(orjson.dumps({"instances": texts}), "application/json", TEXT) == texts


NEGOTIATED = [
    (TEXT, None, "text/plain", "application/json"),
    (TEXT, "*/*", "application/json", "application/json"),
    (TEXT, "application/*;q=0.5, text/csv", "text/plain", "application/json"),
    (RECORDS, None, "application/jsonlines", "application/json"),
    (BYTES, None, "application/octet-stream", "application/json"),
    (ARRAY, None, "text/csv", "text/csv"),
    (ARRAY, None, "application/x-npy", "application/json"),
    (ARRAY, "text/*", "application/json", "text/csv"),
    (ARRAY, "application/*", "text/csv", "application/json"),
]


@pytest.mark.parametrize(("kind", "accept", "request_type", "answer"), NEGOTIATED)
def test_the_response_type_is_one_the_kind_offers(kind, accept, request_type, answer):
    assert codecs.negotiate(accept, request_type, codecs.RESPONSE_TYPES[kind]) == answer


@pytest.mark.parametrize("accept", ["text/csv", "text/*", "application/x-npy", "application/json;q=0"])
def test_text_answers_only_in_json(accept):
    with pytest.raises(errors.NotAcceptable, match="offered: application/json"):
        codecs.negotiate(accept, "application/json", codecs.RESPONSE_TYPES[TEXT])


def test_json_answers_take_numpy_values_and_refuse_other_objects():
    matrix = np.arange(6, dtype=np.float64).reshape(2, 3)
    encoded = codecs.encode_json(
        [matrix[:, 0], np.float32(0.5), np.int64(3), np.str_("label"), {"k": matrix[0]}]
    )
    assert orjson.loads(encoded) == {"predictions": [[0.0, 3.0], 0.5, 3, "label", {"k": [0.0, 1.0, 2.0]}]}
    with pytest.raises(TypeError):
        codecs.encode_json([object()])


def test_array_answers_are_encoded_as_before():
    predictions = np.array([[0.25, 0.75]])
    assert codecs.encode(predictions, "application/json") == b'{"predictions":[[0.25,0.75]]}'
    assert codecs.encode(predictions, "text/csv") == b"0.25,0.75\n"
    assert np.array_equal(np.load(io.BytesIO(codecs.encode(predictions, "application/x-npy"))), predictions)
