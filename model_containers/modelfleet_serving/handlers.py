"""Models the server can load: a small interface with a vectorized ``predict_batch``.

A handler loads its artifact once per worker and answers a whole batch in one
call. Which handler serves a model directory is chosen from its files, or named
with ``MODELFLEET_HANDLER=module:Class``.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Protocol

import numpy as np


class Handler(Protocol):
    n_features: int

    def predict_batch(self, inputs: np.ndarray) -> np.ndarray:
        """Predictions for every row of ``inputs`` (shape ``[rows, n_features]``), row for row."""


class SklearnHandler:
    """A scikit-learn estimator saved with joblib as ``model.joblib``."""

    def __init__(self, model_dir: Path):
        import joblib  # noqa: PLC0415 - only the sklearn handler needs it

        self.model = joblib.load(model_dir / "model.joblib")
        self.n_features = int(self.model.n_features_in_)

    def predict_batch(self, inputs: np.ndarray) -> np.ndarray:
        if hasattr(self.model, "predict_proba"):
            return self.model.predict_proba(inputs)
        return np.asarray(self.model.predict(inputs), dtype=np.float64)


class QuantizedMlpHandler:
    """An int8-quantized MLP (``mlp.npz``): compute-bound, about 1-2 ms a row on one core.

    Integer arithmetic is exact, so a row's prediction is the same whatever batch
    it is computed in; floating-point BLAS takes different paths per batch shape.
    """

    def __init__(self, model_dir: Path):
        weights = np.load(model_dir / "mlp.npz")
        self.layers = [weights[f"w{i}"].astype(np.int32) for i in range(len(weights.files))]
        self.n_features = self.layers[0].shape[0]

    def predict_batch(self, inputs: np.ndarray) -> np.ndarray:
        hidden = np.clip(np.rint(inputs * 16), -127, 127).astype(np.int32)
        for layer in self.layers[:-1]:
            hidden = np.maximum(hidden @ layer, 0) >> 7  # keeps int32 far from overflow
        return (hidden @ self.layers[-1]).astype(np.float64) / 128


def load_handler(model_dir: Path, spec: str | None = None) -> Handler:
    if spec:
        module, _, name = spec.partition(":")
        return getattr(importlib.import_module(module), name)(model_dir)
    if (model_dir / "model.joblib").exists():
        return SklearnHandler(model_dir)
    if (model_dir / "mlp.npz").exists():
        return QuantizedMlpHandler(model_dir)
    raise FileNotFoundError(f"no model.joblib or mlp.npz in {model_dir}")
