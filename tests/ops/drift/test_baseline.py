"""The baseline of a sample dataset: CSV or JSON lines, and the problems that stop it."""

from __future__ import annotations

import pytest

from infra.ops.drift import baseline as baselines


def test_csv_and_jsonl_samples_give_the_same_baseline(tmp_path):
    (tmp_path / "s.csv").write_text(
        "x,colour\n" + "".join(f"{i},{'red' if i % 3 else 'blue'}\n" for i in range(90))
    )
    (tmp_path / "s.jsonl").write_text(
        "".join(f'{{"x": {i}, "colour": "{"red" if i % 3 else "blue"}"}}\n' for i in range(90))
    )
    from_csv, from_jsonl = (baselines.build(tmp_path / name) for name in ("s.csv", "s.jsonl"))
    assert from_csv["features"] == from_jsonl["features"]
    assert from_csv["columns"] == ["x", "colour"] and from_csv["rows"] == 90
    assert from_csv["features"]["colour"]["categories"] == ["red", "blue"]
    assert baselines.problems(from_csv) == []


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('{"x": 1}\nnot json\n', "s.jsonl, line 2: not JSON"),
        ('{"x": 1}\n[1]\n', "s.jsonl, line 2: a JSON object per line, not list"),
        ("", "no rows"),
    ],
)
def test_a_sample_that_cannot_be_read_says_where(tmp_path, text, error):
    (tmp_path / "s.jsonl").write_text(text)
    with pytest.raises(baselines.DatasetError, match=error):
        baselines.build(tmp_path / "s.jsonl")


def test_a_column_without_values_is_refused(tmp_path):
    (tmp_path / "s.csv").write_text("x,y\n1,\n2,\n")
    with pytest.raises(baselines.DatasetError, match="column y has no values"):
        baselines.build(tmp_path / "s.csv")


def test_an_edited_baseline_is_named_incomplete():
    assert baselines.problems({"version": 1, "columns": ["x"], "features": {"x": {"kind": "numeric"}}}) == [
        "feature x is incomplete"
    ]
    assert baselines.problems([]) == ["not a version 1 baseline"]
