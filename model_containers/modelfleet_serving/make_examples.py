"""Generate the example models (no downloads): ``python -m modelfleet_serving.make_examples DIR``.

- ``DIR/sklearn``: a logistic regression on 16 features: prediction is cheap,
  so serving overhead dominates (the "overhead-bound 1-row model").
- ``DIR/mlp``: an int8-quantized MLP, 64 -> 1024 -> 1024 -> 4: about 1-2 ms a row.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np


def make_sklearn(target: Path, seed: int = 0) -> Path:
    import joblib  # noqa: PLC0415
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415

    rng = np.random.default_rng(seed)
    features = rng.standard_normal((2000, 16))
    labels = (features @ rng.standard_normal(16) > 0).astype(int)
    target.mkdir(parents=True, exist_ok=True)
    joblib.dump(LogisticRegression(max_iter=500).fit(features, labels), target / "model.joblib")
    return target


def make_mlp(target: Path, seed: int = 0, widths: tuple[int, ...] = (64, 1024, 1024, 4)) -> Path:
    rng = np.random.default_rng(seed)
    layers = {
        f"w{i}": rng.integers(-8, 8, shape, dtype=np.int8)
        for i, shape in enumerate(itertools.pairwise(widths))
    }
    target.mkdir(parents=True, exist_ok=True)
    np.savez(target / "mlp.npz", **layers)
    return target


def main(argv: list[str] | None = None) -> None:
    root = Path((argv or sys.argv[1:] or ["examples"])[0])
    print(make_sklearn(root / "sklearn"), make_mlp(root / "mlp"))


if __name__ == "__main__":
    main()
