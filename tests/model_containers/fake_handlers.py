"""Handlers that misbehave on purpose, loaded by the server under test via MODELFLEET_HANDLER."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np


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
