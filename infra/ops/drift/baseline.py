"""The baseline: what each feature looked like in a sample dataset, as the drift job reads it.

The sample is a CSV file with a header row, or JSON lines of objects (one row each).
Its columns are in the order the model's CSV requests send them: a CSV request has
no header, so the job maps its values to features by position (``columns``).

Written to ``<model>/drift/baseline.json`` in the stack's capture bucket::

    {"version": 1, "created": "...", "source": "sample.csv", "rows": 5000,
     "columns": ["amount", "country", ...],
     "features": {"amount": {"kind": "numeric", "rows": 5000, "edges": [...],
                             "expected": [...], "sample": [...], "mean": ..., "std": ...},
                  "country": {"kind": "categorical", "rows": 4990,
                              "categories": ["DE", ...], "expected": [...]}}}
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from infra.ops.drift import stats

VERSION = 1
SUFFIXES = (".csv", ".jsonl", ".json")


class DatasetError(ValueError):
    """The sample dataset cannot be read, or lacks what was asked of it."""


def read_dataset(path: Path) -> tuple[list[str], list[dict[str, Any]]]:
    """The columns (in file order) and the rows of a CSV file with a header or of JSON lines."""
    if path.suffix.lower() not in SUFFIXES:
        raise DatasetError(f"{path}: a .csv file with a header row, or .jsonl (one JSON object a line)")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise DatasetError(f"{path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise DatasetError(f"{path}: not UTF-8 text") from None
    if path.suffix.lower() == ".csv":
        lines = csv.reader(text.splitlines())
        columns = [c.strip() for c in next(lines, [])]
        rows = [dict(zip(columns, values, strict=False)) for values in lines if values]
    else:
        columns, rows = [], []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise DatasetError(f"{path}, line {number}: not JSON ({error.msg})") from None
            if not isinstance(row, dict):
                raise DatasetError(f"{path}, line {number}: a JSON object per line, not {type(row).__name__}")
            columns += [key for key in row if key not in columns]
            rows.append(row)
    if not rows:
        raise DatasetError(f"{path}: no rows")
    return columns, rows


def build(path: Path, features: list[str] | None = None, now: datetime | None = None) -> dict[str, Any]:
    """The baseline of ``features`` (default: every column) in the dataset at ``path``."""
    columns, rows = read_dataset(path)
    chosen = features or columns
    unknown = [name for name in chosen if name not in columns]
    if unknown:
        raise DatasetError(f"{path} has no column {', '.join(unknown)} (columns: {', '.join(columns)})")
    built = {}
    for name in chosen:
        try:
            built[name] = stats.feature_baseline(row.get(name) for row in rows)
        except ValueError:
            raise DatasetError(f"{path}: column {name} has no values") from None
    return {
        "version": VERSION,
        "created": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        "source": path.name,
        "rows": len(rows),
        "columns": columns,
        "features": built,
    }


def problems(baseline: Any) -> list[str]:
    """What makes a baseline unreadable to the job (one written by another version, or edited)."""
    if not isinstance(baseline, dict) or baseline.get("version") != VERSION:
        return [f"not a version {VERSION} baseline"]
    features = baseline.get("features")
    if not isinstance(features, dict) or not features or not isinstance(baseline.get("columns"), list):
        return ["no features or columns"]
    needs = {stats.NUMERIC: ("edges", "expected", "sample"), stats.CATEGORICAL: ("categories", "expected")}
    wrong = []
    for name, feature in features.items():
        keys = needs.get(feature.get("kind")) if isinstance(feature, dict) else None
        if keys is None or any(key not in feature for key in keys):
            wrong.append(f"feature {name} is incomplete")
    return wrong
