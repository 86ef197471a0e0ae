"""A feature's baseline and its comparison with a window of captured values (numpy and scipy).

Two statistics, both from scipy:

- PSI, the population stability index, for numeric and categorical features: the
  window's share of values in each of the baseline's bins against the baseline's,
  ``sum((actual - expected) * ln(actual / expected))``, which is the symmetric
  Kullback-Leibler divergence (``scipy.special.rel_entr`` both ways). Numeric
  features are binned at the baseline's deciles, categorical ones by category
  (the most frequent ``MAX_CATEGORIES``, the rest and unseen ones in one "other"
  bin). PSI reads the same for any sample size and has well-known thresholds:
  under 0.1 stable, 0.1 to 0.2 moderate, over 0.2 drifted.
- The two-sample Kolmogorov-Smirnov test (``scipy.stats.ks_2samp``) for numeric
  features: it needs no bins, so it sees a change within a decile that PSI misses.
  Its p-value shrinks with sample size, so both samples are bounded
  (``SAMPLE_SIZE``, drawn with a fixed seed): a busy day is judged like a quiet hour.

A feature is drifted when its PSI is over the PSI threshold, or (numeric) when the
KS p-value is under its threshold. A feature with fewer than ``min_rows`` values in
the window is not judged: it is reported, and never called drifted.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import special, stats

NUMERIC = "numeric"
CATEGORICAL = "categorical"
BINS = 10  # numeric features: deciles of the baseline
MAX_CATEGORIES = 50  # categorical features: the most frequent; the rest share the "other" bin
SAMPLE_SIZE = 1000  # values kept for the KS test, in the baseline and from the window
EPSILON = 1e-4  # an empty bin's share, so that PSI stays finite
SEED = 0  # samples are drawn the same way on every run


@dataclass(frozen=True)
class Thresholds:
    """When a feature counts as drifted (docs/drift.md, "Thresholds")."""

    psi_drift: float = 0.2  # PSI over this: drifted
    psi_moderate: float = 0.1  # PSI over this (and not over psi_drift): moderate, reported only
    ks_pvalue: float = 0.01  # numeric features: a KS p-value under this is drifted
    min_rows: int = 50  # fewer values than this in the window: not judged

    def problems(self) -> list[str]:
        wrong = []
        if not 0 < self.psi_moderate <= self.psi_drift:
            wrong.append("PSI thresholds need 0 < moderate <= drifted")
        if not 0 < self.ks_pvalue < 1:
            wrong.append("the KS p-value threshold must be between 0 and 1")
        if self.min_rows < 1:
            wrong.append("the minimum of rows must be at least 1")
        return wrong

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def number(value: Any) -> float | None:
    """``value`` as a finite float, or None (booleans are categories, not numbers)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        parsed = float(value)
    except (TypeError, ValueError):
        return None
    return parsed if math.isfinite(parsed) else None


def is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def category(value: Any) -> str:
    """A categorical value as the baseline stores it: JSON's true is "true", as a CSV would say."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _sample(values: np.ndarray, size: int = SAMPLE_SIZE) -> np.ndarray:
    if len(values) <= size:
        return values
    return np.random.default_rng(SEED).choice(values, size=size, replace=False)


def feature_baseline(values: Iterable[Any], kind: str | None = None) -> dict[str, Any]:
    """One feature's baseline from its values in the sample: kind, bins and their shares, a sample.

    ``kind`` is numeric when every present value is a number, unless given.
    """
    present = [v for v in values if not is_missing(v)]
    if not present:
        raise ValueError("no values")
    numbers = [number(v) for v in present]
    if kind is None:
        kind = NUMERIC if all(n is not None for n in numbers) else CATEGORICAL
    if kind == NUMERIC:
        array = np.array([n for n in numbers if n is not None], dtype=float)
        quantiles = np.quantile(array, np.linspace(0, 1, BINS + 1)[1:-1])
        edges = np.unique(quantiles)
        expected = np.bincount(np.searchsorted(edges, array), minlength=len(edges) + 1) / len(array)
        return {
            "kind": NUMERIC,
            "rows": len(array),
            "edges": edges.tolist(),
            "expected": expected.tolist(),
            "sample": _sample(array).tolist(),
            "mean": float(array.mean()),
            "std": float(array.std()),
        }
    counts = Counter(category(v) for v in present)
    kept = [name for name, _ in counts.most_common(MAX_CATEGORIES)]
    other = len(present) - sum(counts[name] for name in kept)
    return {
        "kind": CATEGORICAL,
        "rows": len(present),
        "categories": kept,
        "expected": [counts[name] / len(present) for name in kept] + [other / len(present)],
    }


def psi(expected: Iterable[float], actual: Iterable[float]) -> float:
    """Population stability index of two distributions over the same bins (shares summing to 1)."""
    e = np.maximum(np.asarray(list(expected), dtype=float), EPSILON)
    a = np.maximum(np.asarray(list(actual), dtype=float), EPSILON)
    return float(np.sum(special.rel_entr(a, e) + special.rel_entr(e, a)))


def psi_level(value: float | None, thresholds: Thresholds) -> str:
    if value is None:
        return "not judged"
    if value > thresholds.psi_drift:
        return "drifted"
    return "moderate" if value > thresholds.psi_moderate else "stable"


def compare(name: str, baseline: dict[str, Any], values: Iterable[Any], thresholds: Thresholds) -> dict:
    """The window's values of one feature against its baseline: statistics, and drifted or not."""
    present = [v for v in values if not is_missing(v)]
    result: dict[str, Any] = {"feature": name, "kind": baseline["kind"], "baseline_rows": baseline["rows"]}
    if baseline["kind"] == NUMERIC:
        parsed = [number(v) for v in present]
        array = np.array([n for n in parsed if n is not None], dtype=float)
        result["invalid_values"] = len(parsed) - len(array)
        result["values"] = len(array)
        if len(array) >= thresholds.min_rows:
            edges = np.asarray(baseline["edges"], dtype=float)
            actual = np.bincount(np.searchsorted(edges, array), minlength=len(edges) + 1) / len(array)
            result["psi"] = psi(baseline["expected"], actual)
            ks = stats.ks_2samp(np.asarray(baseline["sample"], dtype=float), _sample(array))
            result["ks_statistic"], result["ks_pvalue"] = float(ks.statistic), float(ks.pvalue)
    else:
        index = {name: i for i, name in enumerate(baseline["categories"])}
        other = len(index)
        result["values"] = len(present)
        if len(present) >= thresholds.min_rows:
            bins = np.array([index.get(category(v), other) for v in present])
            actual = np.bincount(bins, minlength=other + 1) / len(present)
            result["psi"] = psi(baseline["expected"], actual)
            top = Counter(category(v) for v in present if category(v) not in index).most_common(5)
            result["unseen_categories"] = dict(top)
    judged = "psi" in result
    result["psi_level"] = psi_level(result.get("psi"), thresholds)
    ks_drifted = judged and result.get("ks_pvalue", 1.0) < thresholds.ks_pvalue
    result["drifted"] = bool(judged and (result["psi"] > thresholds.psi_drift or ks_drifted))
    result["judged"] = judged
    if not judged:
        result["reason"] = f"{result['values']} values in the window, fewer than {thresholds.min_rows}"
    elif result["drifted"]:
        why = []
        if result["psi"] > thresholds.psi_drift:
            why.append(f"PSI {result['psi']:.3f} > {thresholds.psi_drift}")
        if ks_drifted:
            why.append(f"KS p-value {result['ks_pvalue']:.2g} < {thresholds.ks_pvalue}")
        result["reason"] = "; ".join(why)
    return result
