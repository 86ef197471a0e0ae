"""How the server serves a loaded handler, decided once from its kind: decoders, checks, model call, encoder.

``bind`` reads the handler's kind and methods once, after ``load()``, so that
a request only looks things up in a dict and calls what was chosen here; the
array path is the one the server always had (decode, width check, stacked
``predict_batch``, array encoder).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from modelfleet_serving import codecs
from modelfleet_serving.batching import join_lists
from modelfleet_serving.errors import BadRequest
from modelfleet_serving.handler_api import (
    OCTET_STREAM,
    ArrayHandler,
    BytesHandler,
    Handler,
    PayloadKind,
    RecordsHandler,
    TextHandler,
    kind_of,
)


@dataclass(frozen=True)
class ServedModel:
    """A loaded handler and everything the request path needs to serve it."""

    handler: object
    kind: PayloadKind
    decoders: dict[str, codecs.Decoder]  # by request media type
    response_types: tuple[str, ...]  # what Accept may choose from, the default first
    check: Callable[[Any], None] | None  # per request, before batching: BadRequest for a 400
    predict: Callable[[Any], Sequence]  # one model call over a batch
    join: Callable[[Sequence[Any]], Any]  # several requests' payloads as one batch
    batched: bool  # False: one request per model call
    encode: Callable[[Any, str], bytes]  # one request's share of the output, in the negotiated type
    n_features: int | None = None

    def unsupported(self, content_type: str) -> codecs.UnsupportedMediaType:
        return codecs.unsupported(content_type, self.kind, self.decoders)


# The base classes' model methods only raise NotImplementedError: a handler must bring its own.
_UNIMPLEMENTED = frozenset(
    {
        ArrayHandler.predict_batch,
        TextHandler.predict_batch,
        RecordsHandler.predict_batch,
        BytesHandler.predict,
    }
)


def _method(handler: object, name: str, kind: PayloadKind) -> Callable:
    method = getattr(handler, name, None)
    if not callable(method) or getattr(type(handler), name, None) in _UNIMPLEMENTED:
        raise TypeError(f"{type(handler).__name__} is a {kind} handler without a {name}() method")
    return method


def _validator(handler: object) -> Callable[[Any], None] | None:
    """The handler's own ``validate``, or None when it keeps the default (nothing to call per request)."""
    validate = getattr(handler, "validate", None)
    if validate is None or getattr(type(handler), "validate", None) is Handler.validate:
        return None
    return validate


def _width_check(n_features: int | None, validate: Callable | None) -> Callable[[np.ndarray], None] | None:
    if n_features is None:
        return validate

    def check(rows: np.ndarray) -> None:
        if rows.shape[1] != n_features:
            raise BadRequest(f"each row needs {n_features} features, got {rows.shape[1]}")
        if validate is not None:
            validate(rows)

    return check


def _one_body(decoder: codecs.Decoder) -> codecs.Decoder:
    return lambda body: [decoder(body)]


def _encode_items(predictions: Any, accept: str) -> bytes:
    return codecs.encode_json(predictions)


def _encode_one(predictions: Sequence, accept: str) -> bytes:
    return codecs.encode_json(predictions[0])


def bind(handler: object) -> ServedModel:
    """How to serve ``handler`` (already loaded); TypeError when it lacks its kind's method."""
    kind = kind_of(handler)
    validate = _validator(handler)
    if kind is PayloadKind.ARRAY:
        n_features = getattr(handler, "n_features", None)
        n_features = None if n_features is None else int(n_features)
        return ServedModel(
            handler,
            kind,
            codecs.decoders(kind),
            codecs.RESPONSE_TYPES[kind],
            _width_check(n_features, validate),
            _method(handler, "predict_batch", kind),
            np.concatenate,
            True,
            codecs.encode,
            n_features,
        )
    if kind is PayloadKind.BYTES:
        # A request is a list of one body, so the batcher queues, times and sheds it like any other;
        # max_batch_size 1 (batched=False) keeps it alone in its model call.
        predict = _method(handler, "predict", kind)
        media_types = tuple(getattr(handler, "media_types", (OCTET_STREAM,)))
        return ServedModel(
            handler,
            kind,
            {name: _one_body(decoder) for name, decoder in codecs.decoders(kind, media_types).items()},
            codecs.RESPONSE_TYPES[kind],
            None if validate is None else lambda bodies: validate(bodies[0]),
            lambda bodies: [predict(body) for body in bodies],
            join_lists,
            False,
            _encode_one,
        )
    return ServedModel(
        handler,
        kind,
        codecs.decoders(kind),
        codecs.RESPONSE_TYPES[kind],
        validate,
        _method(handler, "predict_batch", kind),
        join_lists,
        True,
        _encode_items,
    )
