"""The interface a model handler implements: the payload kind it takes, ``load()``, then predictions.

A handler owns only its model. The server owns HTTP, batching, metrics and
health; the codecs turn request bodies into the handler's payload kind, and a
client's mistake never reaches the handler. The server, once per worker:

1. builds the handler with the model directory (``Handler(model_dir)``: no loading here);
2. calls ``load()`` in a background thread; ``/ping`` answers 503 until it returns;
3. for each request, decodes the body into the handler's kind, calls the optional
   ``validate(payload)`` (raise ``InvalidInput`` for a 400), then hands the payload
   to the model method, in a thread, together with other requests' payloads when
   the kind batches.

| kind | the model method | receives | returns |
| --- | --- | --- | --- |
| ``array`` | ``predict_batch(inputs)`` | float64 ``ndarray [rows, n_features]`` | ``ndarray``, row per row |
| ``text`` | ``predict_batch(texts)`` | ``list[str]`` | a sequence, an entry per text |
| ``records`` | ``predict_batch(records)`` | ``list[dict]`` (JSON objects) | a sequence, entry per record |
| ``bytes`` | ``predict(body)`` | the raw body, one request | any JSON value |

``predict_batch`` gets the items of one or more requests concatenated, and must
answer item for item in the same order: the server splits the answer back per
request. ``predict`` sees one request at a time. What a handler raises is a 500
with a request id for every request in that call.

Handlers written before kinds existed (``n_features``, ``predict_batch``, loading
in ``__init__``, no ``kind``) are array handlers and load unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from modelfleet_serving.errors import InvalidInput

__all__ = [
    "ArrayHandler",
    "BytesHandler",
    "Handler",
    "InvalidInput",
    "PayloadKind",
    "RecordsHandler",
    "TextHandler",
]

OCTET_STREAM = "application/octet-stream"


class PayloadKind(StrEnum):
    """What a handler's model method receives, and so which request bodies it accepts."""

    ARRAY = "array"  # numeric rows: JSON, CSV or .npy
    TEXT = "text"  # strings: a JSON list, or text/plain one per line
    RECORDS = "records"  # JSON objects: a JSON list, or JSON lines
    BYTES = "bytes"  # the raw body, unbatched


class Handler:
    """The base of the four kinds below: subclass one of them, not this."""

    kind: ClassVar[PayloadKind]

    def __init__(self, model_dir: Path) -> None:
        self.model_dir = model_dir

    def load(self) -> None:
        """Read the model from ``self.model_dir``: once per worker, before ``/ping`` says ready."""

    def validate(self, payload: Any) -> None:
        """Check one request's payload before it joins a batch; raise ``InvalidInput`` for a 400.

        Runs on the event loop, so keep it cheap. The default accepts everything the codec decoded.
        """


class ArrayHandler(Handler):
    """Numeric rows, stacked across requests into one float64 array."""

    kind = PayloadKind.ARRAY
    n_features: int | None = None  # set it in load(); None accepts rows of any width

    def predict_batch(self, inputs: np.ndarray) -> np.ndarray:
        """An output row for every row of ``inputs`` (shape ``[rows, n_features]``), in order."""
        raise NotImplementedError


class TextHandler(Handler):
    """Strings, concatenated across requests into one list."""

    kind = PayloadKind.TEXT

    def predict_batch(self, texts: list[str]) -> Sequence[Any]:
        """An answer (any JSON value, NumPy included) for every text, in order."""
        raise NotImplementedError


class RecordsHandler(Handler):
    """JSON objects, concatenated across requests into one list."""

    kind = PayloadKind.RECORDS

    def predict_batch(self, records: list[dict[str, Any]]) -> Sequence[Any]:
        """An answer (any JSON value, NumPy included) for every record, in order."""
        raise NotImplementedError


class BytesHandler(Handler):
    """The raw request body, one request per call: images, audio, a format of the model's own."""

    kind = PayloadKind.BYTES
    media_types: ClassVar[tuple[str, ...]] = (OCTET_STREAM,)  # the Content-Types it accepts

    def predict(self, body: bytes) -> Any:
        """The answer to one request: any JSON value, NumPy included."""
        raise NotImplementedError


def kind_of(handler: object) -> PayloadKind:
    """The handler's kind; a handler that declares none is an array handler."""
    return PayloadKind(getattr(handler, "kind", PayloadKind.ARRAY))
