"""Drift settings: the tiers' schedules, and every refusal at its key path."""

from __future__ import annotations

from typing import Any

import pytest

from infra.settings.drift import MODEL_MONITOR_MISSING, DriftSchedule
from infra.settings.platform import SettingsError, load_settings
from tests.conftest import valid_config
from tests.settings.test_catalog import model

FEATURES = ["amount", "merchant_category", "hour"]


def config(tier: str = "prod", **changes: Any) -> dict[str, Any]:
    result = valid_config()
    result["modelfleet:tier"] = tier
    entry = model(**changes)
    entry["variants"]["stable"]["weight"] = 100
    entry["variants"].pop("canary")
    result["modelfleet:models"] = [entry]
    return result


def problems(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(SettingsError) as caught:
        load_settings("prod", data)
    return {p.path: p.message for p in caught.value.problems}


@pytest.mark.parametrize(
    ("tier", "schedule", "window"),
    [("dev", DriftSchedule.OFF, 24), ("staging", DriftSchedule.DAILY, 24), ("prod", DriftSchedule.HOURLY, 1)],
)
def test_a_drift_block_takes_its_tiers_schedule_and_the_period_as_window(tier, schedule, window):
    settings = load_settings(tier, config(tier, drift={"features": FEATURES}))
    (entry,) = settings.models
    assert entry.drift.schedule is schedule
    assert entry.drift.window == window
    assert entry.drift_on is (schedule is not DriftSchedule.OFF)
    assert settings.drift_models == ([entry] if entry.drift_on else [])


@pytest.mark.parametrize("tier", ["dev", "staging", "prod"])
def test_no_tier_turns_drift_on_for_a_model_without_a_drift_block(tier):
    settings = load_settings(tier, config(tier))
    (entry,) = settings.models
    assert entry.drift is None
    assert settings.drift_models == []


def test_tier_defaults_never_reach_serverless_or_placed_models_without_a_block():
    data = config("prod", instance_type=None, autoscaling=None, serverless={"memory_mb": 2048})
    (entry,) = load_settings("prod", data).models
    assert entry.drift is None


def test_a_drift_block_that_names_no_features_is_refused_where_the_tier_schedules_it():
    assert problems(config("prod", drift={})) == {
        "modelfleet:models[0].drift": "features are required when drift.schedule is hourly: name the "
        "captured features to compare, or set schedule: off"
    }
    (entry,) = load_settings("dev", config("dev", drift={})).models  # off in dev: nothing to compare
    assert not entry.drift_on


def test_drift_needs_captures():
    found = problems(config("prod", data_capture={"sampling_percent": 0}, drift={"features": FEATURES}))
    assert found == {
        "modelfleet:models[0].drift.schedule": "compares captured requests with the baseline: set "
        "data_capture.sampling_percent above 0, or schedule: off"
    }


def test_serverless_models_cannot_run_drift():
    data = config(
        "prod",
        instance_type=None,
        autoscaling=None,
        serverless={"memory_mb": 2048},
        drift={"features": FEATURES},
    )
    assert "serverless endpoints capture none" in problems(data)["modelfleet:models[0].drift.schedule"]


def test_window_shorter_than_the_period_is_refused():
    data = config("prod", drift={"features": FEATURES, "schedule": "daily", "window_hours": 6})
    assert problems(data) == {
        "modelfleet:models[0].drift": "window_hours (6) is shorter than the daily schedule's 24 h: "
        "captures between runs would never be compared"
    }
    entry = load_settings("prod", config("prod", drift={"features": FEATURES, "window_hours": 3})).models[0]
    assert entry.drift.window == 3


@pytest.mark.parametrize(
    ("drift", "path", "fragment"),
    [
        ({"features": ["amount", "amount"]}, "drift.features", "lists 'amount' twice"),
        ({"features": ["a,b"]}, "drift.features[0]", "feature names are letters"),
        ({"features": [f"feature_{i:03d}" for i in range(30)]}, "drift.features", "at most 256 characters"),
        ({"features": FEATURES, "window_hours": 169}, "drift.window_hours", "168"),
        ({"features": FEATURES, "max_drift_share": 0}, "drift.max_drift_share", "between 0 and 1"),
        ({"features": FEATURES, "schedule": "weekly"}, "drift.schedule", "hourly"),
    ],
)
def test_bad_drift_values_are_refused_at_their_key(drift, path, fragment):
    found = problems(config("prod", drift=drift))
    assert fragment in found[f"modelfleet:models[0].{path}"], found


def test_model_monitor_is_refused_naming_what_is_missing():
    data = config("prod") | {"modelfleet:drift": {"engine": "model_monitor"}}
    found = problems(data)
    assert found == {"modelfleet:drift.engine": MODEL_MONITOR_MISSING}
    assert "baseline" in MODEL_MONITOR_MISSING and "analyzer image" in MODEL_MONITOR_MISSING
    assert load_settings("prod", config("prod") | {"modelfleet:drift": {"engine": "modelfleet"}})


def test_shipped_stacks_monitor_fraud_scorer_outside_dev():
    from tests.conftest import stack_settings

    assert [m.name for m in stack_settings("dev").drift_models] == []
    staging, prod = stack_settings("staging").drift_models, stack_settings("prod").drift_models
    assert [(m.name, m.drift.schedule) for m in staging] == [("fraud-scorer", DriftSchedule.DAILY)]
    assert [(m.name, m.drift.schedule) for m in prod] == [
        ("fraud-scorer", DriftSchedule.HOURLY),
        ("fraud-graph", DriftSchedule.HOURLY),
    ]  # fraud-graph on EKS: its containers capture
    assert prod[0].data_capture.sampling_percent == 25
