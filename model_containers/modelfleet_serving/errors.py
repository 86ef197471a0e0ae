"""Every way a request can fail, each with its HTTP status: the one table the server answers from.

Codecs, handlers' ``validate()`` and the batcher raise these; ``app.py`` turns
any of them into a JSON error in one place. A client's mistake is a 4xx and
names what is wrong; only the model failing (or the server's own bug) is a 500.
This module imports nothing of the server's, so every other module may use it.
"""

from __future__ import annotations


class ServingError(Exception):
    """A request the server answers with ``status`` and this message instead of predictions."""

    status = 500
    retry_after = False  # a Retry-After header: the same request may succeed shortly


class ClientError(ServingError, ValueError):
    """The request itself is wrong: sending it again unchanged fails again."""

    status = 400


class BadRequest(ClientError):
    """The body does not decode, or decodes to the wrong shape or kind for this model."""


class InvalidInput(BadRequest):
    """Raised by a handler's ``validate()``: the payload decodes, but the model cannot take it."""


class NotFound(ClientError):
    status = 404


class MethodNotAllowed(ClientError):
    status = 405


class NotAcceptable(ClientError):
    """No response type this model offers is in the request's ``Accept``."""

    status = 406


class PayloadTooLarge(ClientError):
    """Over the byte limit (``SAGEMAKER_MAX_PAYLOAD_IN_MB``), or more items than the worker queues."""

    status = 413


class UnsupportedMediaType(ClientError):
    """A ``Content-Type`` with no codec for this model's payload kind."""

    status = 415


class Unavailable(ServingError):
    """The server cannot take the request now; the same request may succeed shortly."""

    status = 503
    retry_after = True


class QueueFull(Unavailable):
    """More items are waiting than the worker accepts: shed load now, fast."""


class ModelError(ServingError, RuntimeError):
    """The model raised while predicting, or returned what cannot be sent back: a 500 with a request id."""


class ModelTimeout(ServingError):
    status = 504


def as_serving_error(exc: BaseException, timeout_seconds: float) -> ServingError:
    """``exc`` as the error it is answered with (the batcher's deadline is a built-in ``TimeoutError``)."""
    if isinstance(exc, ServingError):
        return exc
    if isinstance(exc, TimeoutError):
        return ModelTimeout(f"model did not answer within {timeout_seconds:g} s")
    return ModelError(f"{type(exc).__name__}: {exc}")
