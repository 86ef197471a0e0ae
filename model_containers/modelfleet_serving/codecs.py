"""Request and response bodies, chosen by content type and the handler's payload kind.

- array: ``application/json``, ``text/csv``, ``application/x-npy`` -> a 2-D float64
  ``ndarray``; answers in JSON, CSV or ``.npy``;
- text: ``application/json``, ``text/plain`` (a text per line) -> ``list[str]``; answers in JSON;
- records: ``application/json``, ``application/jsonlines`` (an object per line) ->
  ``list[dict]``; answers in JSON;
- bytes: ``application/octet-stream`` (or the handler's ``media_types``) -> ``bytes``;
  answers in JSON.

A JSON body is a list of items, or an object holding it under ``"instances"``
or ``"inputs"``. Every malformed input raises ``BadRequest`` with a message
saying what is wrong; nothing a client sends may escape as another exception.
Codecs know bytes and values only: no HTTP, no handler.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import orjson

from modelfleet_serving.errors import BadRequest, NotAcceptable, UnsupportedMediaType
from modelfleet_serving.handler_api import OCTET_STREAM, PayloadKind

JSON, CSV, NPY = "application/json", "text/csv", "application/x-npy"
TEXT_PLAIN, JSON_LINES = "text/plain", "application/jsonlines"
SUPPORTED = (JSON, CSV, NPY)  # the array kind's, request and response alike
JSON_KEYS = ("instances", "inputs")

Decoder = Callable[[bytes], Any]


def media_type(header: str | None) -> str:
    return (header or JSON).split(";", 1)[0].strip().lower() or JSON


def negotiate(accept: str | None, request_type: str, offered: tuple[str, ...] = SUPPORTED) -> str:
    """The response type: the first of ``offered`` the client accepts, by q-value.

    With no ``Accept``, the request's own type when offered (``.npy`` aside: JSON),
    else the first offered.
    """
    if not accept:
        return request_type if request_type in offered and request_type != NPY else offered[0]
    choices = []
    for position, part in enumerate(accept.split(",")):
        kind, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
        choices.append((-quality, position, kind.lower()))
    for quality, _, kind in sorted(choices):
        if quality == 0:
            continue
        if kind in offered:
            return kind
        if kind == "*/*":
            return offered[0]
        if kind.endswith("/*"):
            family = kind[:-1]  # "text/"
            for candidate in offered:
                if candidate.startswith(family):
                    return candidate
    raise NotAcceptable(f"cannot answer with any of: {accept}; offered: {', '.join(offered)}")


# Decoding --------------------------------------------------------------------------


def _json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"body is not valid JSON: {exc}") from None


def _unwrap(data: Any) -> tuple[Any, str]:
    """The items of a JSON body, and what to call them in messages: a bare list is the instances."""
    if not isinstance(data, dict):
        return data, "instances"
    present = [key for key in JSON_KEYS if key in data]
    if len(present) != 1:
        raise BadRequest('a JSON object body needs an "instances" list (or "inputs"), exactly one of them')
    return data[present[0]], present[0]


def _utf8(body: bytes, what: str) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest(f"{what} body is not UTF-8") from None


def _lines(text: str) -> list[str]:
    """Non-blank lines, split on ``\\n`` only (``\\r\\n`` too): a text may hold any other character."""
    return [line.removesuffix("\r") for line in text.split("\n") if line.strip()]


def _matrix(value: object, where: str, finite: bool = False) -> np.ndarray:
    """``value`` as a non-empty 2-D float64 array (one row may come bare), or a 400 naming ``where``.
    ``finite``: the caller has already found every value finite."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (ValueError, TypeError) as exc:
        raise BadRequest(f"{where} must hold numbers only ({exc})") from None
    if array.ndim == 1:
        array = array[np.newaxis, :]
    if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] == 0:
        raise BadRequest(f"{where} must be a non-empty list of rows of numbers (got shape {array.shape})")
    if not finite and not np.isfinite(array).all():
        raise BadRequest(f"{where} contains NaN or infinity")
    return array


JSON_TYPES = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}


def _items(values: Any, where: str, expected: type, plural: str) -> list:
    """``values`` if a non-empty list of ``expected`` (a JSON type), else a 400 naming the first stray."""
    if not isinstance(values, list) or not values:
        raise BadRequest(f"{where} must be a non-empty list of {plural}")
    for index, value in enumerate(values):
        if not isinstance(value, expected):
            found = JSON_TYPES.get(type(value), "a number")
            raise BadRequest(f"{where}[{index}] is {found}, not {JSON_TYPES[expected]}")
    return values


def array_from_json(body: bytes) -> np.ndarray:
    data, where = _unwrap(_json(body))
    return _matrix(data, where)


def array_from_csv(body: bytes) -> np.ndarray:
    # Python's float() per field, as NumPy's string cast parses them, at a third of its cost.
    lines = [line for line in _utf8(body, "CSV").splitlines() if line.strip()]
    try:
        rows = [list(map(float, line.split(","))) for line in lines]
    except ValueError as exc:
        raise BadRequest(f"CSV rows must hold numbers only ({exc})") from None
    if len({len(row) for row in rows}) > 1:
        raise BadRequest("CSV rows have different numbers of columns")
    # A finite sum means every value is finite (NaN and infinity carry into it); a sum that
    # overflows from finite values leaves the check to NumPy.
    return _matrix(rows, "CSV rows", finite=math.isfinite(sum(map(sum, rows))))


def array_from_npy(body: bytes) -> np.ndarray:
    try:
        array = np.load(io.BytesIO(body), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise BadRequest(f"body is not a .npy array: {exc}") from None
    return _matrix(array, ".npy array")


def texts_from_json(body: bytes) -> list[str]:
    data, where = _unwrap(_json(body))
    return _items(data, where, str, "strings")


def texts_from_plain(body: bytes) -> list[str]:
    texts = _lines(_utf8(body, "text/plain"))
    if not texts:
        raise BadRequest("a text/plain body needs at least one non-blank line: a text per line")
    return texts


def records_from_json(body: bytes) -> list[dict[str, Any]]:
    data, where = _unwrap(_json(body))
    return _items(data, where, dict, "objects")


def records_from_json_lines(body: bytes) -> list[dict[str, Any]]:
    records = []
    for number, line in enumerate(_lines(_utf8(body, "JSON lines")), start=1):
        try:
            records.append(orjson.loads(line))
        except orjson.JSONDecodeError as exc:
            raise BadRequest(f"line {number} is not valid JSON: {exc}") from None
    return _items(records, "the JSON lines", dict, "objects")


def raw_bytes(body: bytes) -> bytes:
    if not body:
        raise BadRequest("the body is empty")
    return body


DECODERS: dict[PayloadKind, dict[str, Decoder]] = {
    PayloadKind.ARRAY: {JSON: array_from_json, CSV: array_from_csv, NPY: array_from_npy},
    PayloadKind.TEXT: {JSON: texts_from_json, TEXT_PLAIN: texts_from_plain},
    PayloadKind.RECORDS: {JSON: records_from_json, JSON_LINES: records_from_json_lines},
    PayloadKind.BYTES: {OCTET_STREAM: raw_bytes},
}
RESPONSE_TYPES: dict[PayloadKind, tuple[str, ...]] = {
    PayloadKind.ARRAY: SUPPORTED,
    PayloadKind.TEXT: (JSON,),
    PayloadKind.RECORDS: (JSON,),
    PayloadKind.BYTES: (JSON,),
}


def decoders(kind: PayloadKind, bytes_media_types: Iterable[str] = (OCTET_STREAM,)) -> dict[str, Decoder]:
    """The request decoders of a payload kind, by media type (a bytes handler names its own types)."""
    if kind is PayloadKind.BYTES:
        return {media_type(name): raw_bytes for name in bytes_media_types}
    return dict(DECODERS[kind])


def unsupported(content_type: str, kind: PayloadKind, offered: Iterable[str]) -> UnsupportedMediaType:
    return UnsupportedMediaType(
        f"content type {content_type!r} is not supported; this model takes {kind}: "
        f"use one of {', '.join(offered)}"
    )


def decode(body: bytes, content_type: str, kind: PayloadKind = PayloadKind.ARRAY) -> Any:
    """``body`` as the payload ``kind`` takes; array rows are a 2-D float64 array."""
    table = DECODERS[kind]
    decoder = table.get(content_type)
    if decoder is None:
        raise unsupported(content_type, kind, table)
    return decoder(body)


# Encoding --------------------------------------------------------------------------


def encode(predictions: np.ndarray, content_type: str) -> bytes:
    """An array handler's output in the negotiated type."""
    if content_type == NPY:
        buffer = io.BytesIO()
        np.save(buffer, predictions, allow_pickle=False)
        return buffer.getvalue()
    if content_type == CSV:
        rows = predictions if predictions.ndim == 2 else predictions[:, np.newaxis]
        # tolist() gives Python floats at once: a third of the time of float() per NumPy scalar
        values = np.asarray(rows, dtype=np.float64).tolist()
        return ("\n".join(",".join(map(repr, row)) for row in values) + "\n").encode()
    return orjson.dumps({"predictions": predictions.tolist()})


def _to_list(value: Any) -> Any:
    if hasattr(value, "tolist"):  # NumPy arrays orjson leaves over (not C-contiguous, object dtype)
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def encode_json(predictions: Any) -> bytes:
    """``{"predictions": ...}`` for any JSON value, NumPy arrays and scalars included."""
    return orjson.dumps({"predictions": predictions}, option=orjson.OPT_SERIALIZE_NUMPY, default=_to_list)
