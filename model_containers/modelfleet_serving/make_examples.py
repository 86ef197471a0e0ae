"""Generate the example models (no downloads): ``python -m modelfleet_serving.make_examples DIR``.

- ``DIR/sklearn``: a logistic regression on 16 features: prediction is cheap,
  so serving overhead dominates (the "overhead-bound 1-row model").
- ``DIR/mlp``: an int8-quantized MLP, 64 -> 1024 -> 1024 -> 4: about 1-2 ms a row.
- ``DIR/text``: a sentiment classifier over raw text (TF-IDF and logistic regression)
  trained on the short corpus below, served by the text handler.

Each is the same on every run: fixed seeds, fixed data, deterministic solvers.
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


# Short reviews, labelled by hand: enough for the example to tell clear cases apart, not a real model.
POSITIVE = (
    "a wonderful film with a moving story",
    "great acting and a beautiful score",
    "i loved every minute of it",
    "brilliant, funny and warm",
    "the best meal we have had in years",
    "friendly staff and excellent service",
    "works perfectly, highly recommended",
    "an absolute delight from start to finish",
    "superb performances and a clever plot",
    "fast delivery and the quality is great",
    "charming, heartfelt and beautifully shot",
    "i would happily buy this again",
    "a joy to watch with the whole family",
    "fantastic value and very easy to use",
    "the ending was perfect and satisfying",
    "smart writing and a lovely cast",
    "this exceeded all my expectations",
    "really enjoyable, i recommend it",
    "excellent sound and a sturdy build",
    "a gripping, thrilling and rewarding story",
)
NEGATIVE = (
    "a boring film with a predictable story",
    "terrible acting and an awful script",
    "i hated every minute of it",
    "dull, slow and far too long",
    "the worst meal we have had in years",
    "rude staff and terrible service",
    "stopped working after two days, avoid",
    "a complete waste of time and money",
    "poor performances and a confusing plot",
    "late delivery and the quality is poor",
    "lifeless, clumsy and badly shot",
    "i would never buy this again",
    "painful to watch, we left early",
    "overpriced and very hard to use",
    "the ending was awful and disappointing",
    "lazy writing and a wooden cast",
    "this fell far below my expectations",
    "really disappointing, i do not recommend it",
    "tinny sound and a flimsy build",
    "a tedious, bland and pointless story",
)


def make_text(target: Path) -> Path:
    """TF-IDF (words and word pairs) and a logistic regression, saved as ``text_model.joblib``."""
    import joblib  # noqa: PLC0415
    from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: PLC0415
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415
    from sklearn.pipeline import make_pipeline  # noqa: PLC0415

    texts = [*POSITIVE, *NEGATIVE]
    labels = ["positive"] * len(POSITIVE) + ["negative"] * len(NEGATIVE)
    pipeline = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True), LogisticRegression(C=10.0, max_iter=1000)
    )
    target.mkdir(parents=True, exist_ok=True)
    joblib.dump(pipeline.fit(texts, labels), target / "text_model.joblib")
    return target


def main(argv: list[str] | None = None) -> None:
    root = Path((argv or sys.argv[1:] or ["examples"])[0])
    print(make_sklearn(root / "sklearn"), make_mlp(root / "mlp"), make_text(root / "text"))


if __name__ == "__main__":
    main()
