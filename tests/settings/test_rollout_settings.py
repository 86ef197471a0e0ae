"""Rollout settings in the catalog: tier defaults, and bad values named by key path."""

from __future__ import annotations

from infra.settings.platform import load_settings
from infra.specs import naming
from tests.conftest import valid_config
from tests.settings.test_catalog import model, problems


def rollout_of(tier: str, **rollout):
    entry = model(rollout=rollout) if rollout else model()
    config = valid_config() | {"modelfleet:tier": tier, "modelfleet:models": [entry]}
    if tier != "prod":
        config["modelfleet:network"] = {"cidr": "10.30.0.0/16"}
    return load_settings(tier, config).models[0].rollout


def test_tiers_bake_longer_and_step_smaller_towards_prod():
    dev, staging, prod = (rollout_of(t) for t in ("dev", "staging", "prod"))
    assert dev.steps_percent == [50, 100] and prod.steps_percent == [10, 25, 50, 100]
    assert dev.bake_seconds < staging.bake_seconds < prod.bake_seconds
    assert dev.max_error_rate_increase_points > prod.max_error_rate_increase_points
    holds = [r.insufficient_data_hold_seconds for r in (dev, staging, prod)]
    assert holds == [300, 900, 1800]  # a quiet canary waits longer for traffic towards prod, never forever
    assert prod.sample_payload is None


def test_a_stack_overrides_single_keys_and_keeps_the_rest():
    rollout = rollout_of("prod", bake_seconds=60, sample_payload="1,2,3")
    assert (rollout.bake_seconds, rollout.sample_payload, rollout.poll_seconds) == (60, "1,2,3", 30)


def test_bad_rollout_settings_are_all_listed_with_key_paths():
    found = problems(model(rollout={"steps_percent": [50, 25, 100], "bake_seconds": -1, "poll_sec": 5}))
    assert found == [
        "modelfleet:models[0].rollout.bake_seconds: must be between 0 and 86400 (got -1)",
        "modelfleet:models[0].rollout.poll_sec: unknown key (did you mean 'poll_seconds'?); allowed keys: "
        "bake_seconds, in_service_timeout_seconds, insufficient_data_hold_seconds, max_error_rate_increase_points, "
        "max_p99_latency_increase_percent, min_invocations, poll_seconds, sample_accept, "
        "sample_content_type, sample_payload, sample_response_keys, steps_percent",
        "modelfleet:models[0].rollout.steps_percent: must increase step by step (got [50, 25, 100])",
    ]


def test_steps_must_end_at_100():
    assert problems(model(rollout={"steps_percent": [10, 50]})) == [
        "modelfleet:models[0].rollout.steps_percent: must be percentages from 1 to 100 ending at 100 (got [10, 50])"
    ]


def test_the_endpoint_name_is_the_one_the_program_declares(shipped_plans):
    endpoint = shipped_plans["prod"].get("aws-native:sagemaker:Endpoint", "platform-fraud-scorer-endpoint")
    assert endpoint.inputs["endpointName"] == naming.endpoint("prod", "fraud-scorer")
