"""The tier profiles: what each tier sets when a stack file is silent, in one typed table.

A stack names its tier (``modelfleet:tier``) and only what differs from it. The
settings merge a tier's values under the stack's own (``with_tier_defaults``),
``modelfleet new-model`` and ``new-env`` size and seed from it, and the
configuration docs are generated from it, so a default changes here and nowhere
else. Values are keyed exactly as in the stack file.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Tier(StrEnum):
    DEV = "dev"
    STAGING = "staging"
    PROD = "prod"


@dataclass(frozen=True)
class TierProfile:
    """One tier's defaults."""

    why: str  # the tier's intent, for the docs
    stack: dict[str, Any]  # top-level stack keys: modelfleet:protect_stateful, :retention, :network
    model: dict[
        str, Any
    ]  # under every modelfleet:models entry: data capture, drift, deployment, alarms, rollout
    pool: dict[str, Any]  # under every modelfleet:gpu_pools entry: capacity type, update budget
    min_instances: int  # fewest instances new-model sizes a SageMaker model with (prod: the pack's minimum)


TIERS: dict[Tier, TierProfile] = {
    Tier.DEV: TierProfile(
        why="cheap and quick: one AZ pair, one NAT, spot GPUs, all-at-once deploys",
        stack={
        "modelfleet:protect_stateful": False,
        "modelfleet:retention": {"log_days": 14, "data_capture_days": 7},
        "modelfleet:network": {
            "az_count": 2,
            "nat_strategy": "single",
            "private_subnet_prefix": 20,
            "flow_logs": {"retention_days": 14, "traffic_type": "REJECT"},
        },
    },
        model={
        "data_capture": {"sampling_percent": 0},
        "drift": {"schedule": "off"},
        "deployment": {"strategy": "all_at_once", "wait_seconds": 0, "termination_wait_seconds": 0},
        "alarms": {"error_4xx_rate_percent": 20},
        "rollout": {"steps_percent": [50, 100], "bake_seconds": 60, "poll_seconds": 15,
                    "max_error_rate_increase_points": 2, "max_p99_latency_increase_percent": 50,
                    "min_invocations": 10, "insufficient_data_hold_seconds": 300,
                    "in_service_timeout_seconds": 1800},
    },
        pool={"capacity": "spot", "max_unavailable_percent": 100},
        min_instances=1,
    ),
    Tier.STAGING: TierProfile(
        why="like prod in shape (three AZs, NAT per AZ), with shorter retention and gentler gates",
        stack={
        "modelfleet:protect_stateful": False,
        "modelfleet:retention": {"log_days": 30, "data_capture_days": 30},
        "modelfleet:network": {
            "az_count": 3,
            "nat_strategy": "per_az",
            "private_subnet_prefix": 20,
            "flow_logs": {"retention_days": 30},
        },
    },
        model={
        "data_capture": {"sampling_percent": 10},
        "drift": {"schedule": "daily"},
        "deployment": {"strategy": "linear", "step_percent": 25, "wait_seconds": 300,
                       "termination_wait_seconds": 300},
        "alarms": {"error_4xx_rate_percent": 10},
        "rollout": {"steps_percent": [25, 50, 100], "bake_seconds": 300, "poll_seconds": 30,
                    "max_error_rate_increase_points": 1, "max_p99_latency_increase_percent": 30,
                    "min_invocations": 50, "insufficient_data_hold_seconds": 900,
                    "in_service_timeout_seconds": 1800},
    },
        pool={"capacity": "on_demand"},
        min_instances=1,
    ),
    Tier.PROD: TierProfile(
        why="survives an AZ: three AZs, NAT per AZ, two instances at least, canary deploys, a year of logs",
        stack={
        "modelfleet:protect_stateful": True,
        "modelfleet:retention": {"log_days": 365, "data_capture_days": 90},
        "modelfleet:network": {
            "az_count": 3,
            "nat_strategy": "per_az",
            "private_subnet_prefix": 19,
            "flow_logs": {"retention_days": 365, "max_aggregation_interval_seconds": 60},
        },
    },
        model={
        "data_capture": {"sampling_percent": 20},
        "drift": {"schedule": "hourly"},
        "deployment": {"strategy": "canary", "step_percent": 10, "wait_seconds": 600,
                       "termination_wait_seconds": 900},
        "alarms": {"error_4xx_rate_percent": 5, "no_invocations_minutes": 30},
        "rollout": {"steps_percent": [10, 25, 50, 100], "bake_seconds": 600, "poll_seconds": 30,
                    "max_error_rate_increase_points": 0.5, "max_p99_latency_increase_percent": 20,
                    "min_invocations": 200, "insufficient_data_hold_seconds": 1800,
                    "in_service_timeout_seconds": 3600},
    },
        pool={"capacity": "on_demand", "max_unavailable_percent": 25},
        min_instances=2,
    ),
}  # fmt: skip

# Views by part, as the settings merge them.
TIER_DEFAULTS: dict[Tier, dict[str, Any]] = {tier: profile.stack for tier, profile in TIERS.items()}
TIER_MODEL_DEFAULTS: dict[Tier, dict[str, Any]] = {tier: profile.model for tier, profile in TIERS.items()}
TIER_POOL_DEFAULTS: dict[Tier, dict[str, Any]] = {tier: profile.pool for tier, profile in TIERS.items()}
