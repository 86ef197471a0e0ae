"""Handlers that misbehave on purpose, loaded by the server under test via MODELFLEET_HANDLER."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
from modelfleet_serving.handler_api import (
    ArrayHandler,
    BytesHandler,
    InvalidInput,
    RecordsHandler,
    TextHandler,
)


class SlowHandler:
    """Two features; sleeps SLOW_SECONDS per batch; fails on a row containing 666."""

    n_features = 2

    def __init__(self, model_dir: Path):
        time.sleep(float(os.environ.get("SLOW_LOAD_SECONDS", "0")))

    def predict_batch(self, inputs: np.ndarray) -> np.ndarray:
        if (inputs == 666).any():
            raise RuntimeError("the model cannot handle 666")
        time.sleep(float(os.environ.get("SLOW_SECONDS", "0")))
        return inputs.sum(axis=1, keepdims=True)


# One handler per payload kind, written against modelfleet_serving.handler_api --------------------


class Recorded:
    """Counts load() calls and records the size of every batch its model method is called with."""

    loads = 0

    def load(self) -> None:
        self.loads += 1
        self.sizes: list[int] = []


class DoubleRows(Recorded, ArrayHandler):
    """Array kind, new style: loads in load(), rows of any width, doubles every row."""

    def predict_batch(self, inputs: np.ndarray) -> np.ndarray:
        self.sizes.append(len(inputs))
        return inputs * 2


class ShoutText(Recorded, TextHandler):
    """Text kind: each text upper-cased with its length. Misbehaves on purpose on "boom" (raises),
    "short" (an answer too few) and "object" (answers that are not JSON)."""

    def predict_batch(self, texts: list[str]) -> list[dict]:
        self.sizes.append(len(texts))
        if "boom" in texts:
            raise RuntimeError("the model cannot handle boom")
        if "short" in texts:
            return [{"text": "one answer too few"}] * (len(texts) - 1)
        if "object" in texts:
            return [object() for _ in texts]
        return [{"text": text.upper(), "length": len(text)} for text in texts]


class PriceRecords(Recorded, RecordsHandler):
    """Records kind: price * quantity per record; validate() refuses records without them (a 400)."""

    def validate(self, records: list[dict]) -> None:
        for index, record in enumerate(records):
            for field in ("price", "quantity"):
                if not isinstance(record.get(field), int | float):
                    raise InvalidInput(f"record {index} needs a number in {field!r}")

    def predict_batch(self, records: list[dict]) -> np.ndarray:
        self.sizes.append(len(records))
        return np.array([record["price"] * record["quantity"] for record in records])


class MeasureBytes(Recorded, BytesHandler):
    """Bytes kind: the body's size, first byte and mean; takes octet-stream and PNG bodies."""

    media_types = ("application/octet-stream", "image/png")

    def predict(self, body: bytes) -> dict:
        self.sizes.append(1)
        return {"size": len(body), "first": body[0], "mean": np.frombuffer(body, np.uint8).mean()}


class FailsToLoad(TextHandler):
    def load(self) -> None:
        raise OSError("artifact missing")


class WithoutMethod(TextHandler):
    """A text handler that forgot predict_batch: refused at load, never ready."""


class NotCallable(BytesHandler):
    predict = None
