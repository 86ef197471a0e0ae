"""PSI, the KS test and the decision rule, on numbers small enough to check by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from infra.ops.drift import stats

T = stats.Thresholds()


def test_psi_is_the_textbook_sum():
    expected, actual = [0.5, 0.3, 0.2], [0.3, 0.3, 0.4]
    by_hand = sum((a - e) * math.log(a / e) for a, e in zip(actual, expected, strict=True))
    assert stats.psi(expected, actual) == pytest.approx(by_hand)
    assert stats.psi(expected, expected) == 0


def test_an_empty_bin_keeps_psi_finite():
    assert math.isfinite(stats.psi([0.5, 0.5, 0.0], [0.4, 0.4, 0.2]))


@pytest.mark.parametrize(("value", "level"), [(0.05, "stable"), (0.1, "stable"), (0.15, "moderate"),
                                              (0.2, "moderate"), (0.21, "drifted"), (None, "not judged")])  # fmt: skip
def test_psi_levels_follow_the_thresholds(value, level):
    assert stats.psi_level(value, T) == level


def test_numeric_baseline_bins_at_deciles_and_bounds_its_sample():
    values = np.random.default_rng(0).normal(0, 1, 5000)
    built = stats.feature_baseline(values)
    assert built["kind"] == "numeric" and built["rows"] == 5000
    assert len(built["edges"]) == 9 and built["expected"] == pytest.approx([0.1] * 10)
    assert len(built["sample"]) == stats.SAMPLE_SIZE


def test_a_column_with_any_non_number_is_categorical_and_missing_values_are_left_out():
    built = stats.feature_baseline(["1", "2", "x", "", None, "2"])
    assert built["kind"] == "categorical" and built["rows"] == 4
    assert built["categories"] == ["2", "1", "x"] and built["expected"] == [0.5, 0.25, 0.25, 0.0]


def test_booleans_and_whole_floats_are_the_categories_a_csv_would_spell():
    assert [stats.category(v) for v in (True, False, 3.0, " DE ")] == ["true", "false", "3", "DE"]
    assert stats.number(True) is None and stats.number("nan") is None and stats.number("1e3") == 1000


def test_a_shift_within_one_decile_is_caught_by_ks_not_psi():
    """A narrower spread keeps most values in their deciles' range, yet KS sees it."""
    rng = np.random.default_rng(1)
    baseline = stats.feature_baseline(rng.normal(0, 1, 5000))
    result = stats.compare("x", baseline, rng.normal(0, 0.8, 2000), T)
    assert result["psi"] < T.psi_drift and result["ks_pvalue"] < T.ks_pvalue
    assert result["drifted"] and result["reason"].startswith("KS p-value")


def test_the_same_distribution_is_stable():
    rng = np.random.default_rng(2)
    baseline = stats.feature_baseline(rng.normal(0, 1, 5000))
    result = stats.compare("x", baseline, rng.normal(0, 1, 2000), T)
    assert not result["drifted"] and result["psi_level"] == "stable" and "reason" not in result


def test_too_few_values_are_not_judged_and_not_drifted():
    baseline = stats.feature_baseline(np.arange(100.0))
    result = stats.compare("x", baseline, [500.0] * 49 + ["oops"], T)
    assert result == result | {"judged": False, "drifted": False, "values": 49, "invalid_values": 1}
    assert result["reason"] == "49 values in the window, fewer than 50"


@pytest.mark.parametrize(
    ("thresholds", "problem"),
    [
        (stats.Thresholds(psi_drift=0.1, psi_moderate=0.2), "PSI thresholds need 0 < moderate <= drifted"),
        (stats.Thresholds(ks_pvalue=1.5), "the KS p-value threshold must be between 0 and 1"),
        (stats.Thresholds(min_rows=0), "the minimum of rows must be at least 1"),
    ],
)
def test_thresholds_that_make_no_sense_are_named(thresholds, problem):
    assert thresholds.problems() == [problem]
    assert stats.Thresholds().problems() == []
