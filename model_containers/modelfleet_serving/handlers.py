"""The handlers that ship with the server, and how a model directory picks one.

Which handler serves a model directory is chosen from its files (``ARTIFACTS``),
or named with ``MODELFLEET_HANDLER=module:Class``. The interface they implement
is ``handler_api.py``.
"""

from __future__ import annotations

import functools
import importlib
from pathlib import Path
from typing import Any

import numpy as np

from modelfleet_serving.handler_api import ArrayHandler, Handler, TextHandler

__all__ = [
    "ARTIFACTS",
    "Handler",
    "QuantizedMlpHandler",
    "SklearnHandler",
    "SklearnTextHandler",
    "handler_class",
    "load_handler",
]


class SklearnHandler(ArrayHandler):
    """A scikit-learn estimator saved with joblib as ``model.joblib``."""

    def load(self) -> None:
        import joblib  # noqa: PLC0415 - only the scikit-learn handlers need it

        self.model = joblib.load(self.model_dir / "model.joblib")
        self.n_features = int(self.model.n_features_in_)

    def predict_batch(self, inputs: np.ndarray) -> np.ndarray:
        if hasattr(self.model, "predict_proba"):
            return self.model.predict_proba(inputs)
        return np.asarray(self.model.predict(inputs), dtype=np.float64)


class QuantizedMlpHandler(ArrayHandler):
    """An int8-quantized MLP (``mlp.npz``): compute-bound, about 1-2 ms a row on one core.

    Integer arithmetic is exact, so a row's prediction is the same whatever batch
    it is computed in; floating-point BLAS takes different paths per batch shape.
    """

    def load(self) -> None:
        weights = np.load(self.model_dir / "mlp.npz")
        self.layers = [weights[f"w{i}"].astype(np.int32) for i in range(len(weights.files))]
        self.n_features = self.layers[0].shape[0]

    def predict_batch(self, inputs: np.ndarray) -> np.ndarray:
        hidden = np.clip(np.rint(inputs * 16), -127, 127).astype(np.int32)
        for layer in self.layers[:-1]:
            hidden = np.maximum(hidden @ layer, 0) >> 7  # keeps int32 far from overflow
        return (hidden @ self.layers[-1]).astype(np.float64) / 128


class SklearnTextHandler(TextHandler):
    """A scikit-learn pipeline over raw strings (for example TF-IDF and a linear classifier),
    saved with joblib as ``text_model.joblib``.

    A classifier with probabilities answers ``{"label": ..., "scores": {class: probability}}``
    per text; any other pipeline, its ``predict`` value per text.
    """

    def load(self) -> None:
        import joblib  # noqa: PLC0415 - only the scikit-learn handlers need it
        import sklearn  # noqa: PLC0415

        # The codec hands over a list of strings, and everything a pipeline derives from strings is
        # finite: skipping scikit-learn's input checks takes a third off a one-text call (~0.9 ms).
        self.trusted_inputs = functools.partial(
            sklearn.config_context, assume_finite=True, skip_parameter_validation=True
        )
        self.pipeline = joblib.load(self.model_dir / "text_model.joblib")
        self.classes: list[Any] | None = None
        if hasattr(self.pipeline, "predict_proba") and hasattr(self.pipeline, "classes_"):
            self.classes = np.asarray(self.pipeline.classes_).tolist()  # Python values, for JSON
            self.class_names = [str(name) for name in self.classes]

    def predict_batch(self, texts: list[str]) -> list[Any]:
        with self.trusted_inputs():
            if self.classes is None:
                return np.asarray(self.pipeline.predict(texts)).tolist()
            probabilities = self.pipeline.predict_proba(texts)
        best = probabilities.argmax(axis=1).tolist()
        return [
            {"label": self.classes[index], "scores": dict(zip(self.class_names, row, strict=True))}
            for index, row in zip(best, probabilities.tolist(), strict=True)
        ]


# A model directory's file, and the handler that serves it: the first present wins.
ARTIFACTS: dict[str, type] = {
    "model.joblib": SklearnHandler,
    "mlp.npz": QuantizedMlpHandler,
    "text_model.joblib": SklearnTextHandler,
}


def handler_class(model_dir: Path, spec: str | None = None) -> type:
    """The class named by ``spec`` (``module:Class``), else the one the directory's files call for."""
    if spec:
        module, _, name = spec.partition(":")
        return getattr(importlib.import_module(module), name)
    for artifact, cls in ARTIFACTS.items():
        if (model_dir / artifact).exists():
            return cls
    raise FileNotFoundError(f"no {', '.join(ARTIFACTS)} in {model_dir}")


def load_handler(model_dir: Path, spec: str | None = None) -> Any:
    """A handler for ``model_dir``, built and loaded: ready for its model method.

    A handler without ``load()`` (written before it existed) loads in its constructor.
    """
    handler = handler_class(model_dir, spec)(model_dir)
    load = getattr(handler, "load", None)
    if callable(load):
        load()
    return handler
