"""Drift monitoring settings: a model's ``drift:`` block and the stack's ``modelfleet:drift``.

Drift runs for a SageMaker model on its own endpoint that captures data and names the
features to compare. Its tier picks how often (off in dev, daily in staging, hourly in
prod), but a tier never turns drift on for a model without a ``drift:`` block: the
defaults fill in only the blocks a stack file writes (``_entry_defaults``).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from infra.settings.types import Strict

# CreateProcessingJob's ContainerArguments: each argument is at most 256 characters,
# and the job takes the features as one comma-separated argument.
FEATURES_ARGUMENT_MAX_LENGTH = 256
MAX_WINDOW_HOURS = 168  # a week of captures: the longest window one small instance is sized for


class DriftSchedule(StrEnum):
    OFF = "off"
    DAILY = "daily"
    HOURLY = "hourly"


SCHEDULE_PERIOD_HOURS = {DriftSchedule.DAILY: 24, DriftSchedule.HOURLY: 1}
SCHEDULE_EXPRESSIONS = {DriftSchedule.DAILY: "rate(1 day)", DriftSchedule.HOURLY: "rate(1 hour)"}


class DriftEngine(StrEnum):
    MODELFLEET = "modelfleet"  # the stack's own job (infra/ops/drift) on a schedule of EventBridge Scheduler
    MODEL_MONITOR = "model_monitor"  # SageMaker Model Monitor's schedules, for accounts that still have it


def _feature(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]{0,127}", value):
        raise PydanticCustomError(
            "feature",
            "feature names are letters, digits, '_', '.' or '-', starting with a letter or '_' (got '{got}')",
            {"got": value},
        )
    return value


class DriftSettings(Strict):
    """How one model's captured requests are compared with its baseline."""

    features: list[Annotated[str, AfterValidator(_feature)]] = Field(
        default_factory=list,
        description="the captured features to compare with the baseline; required when schedule is not off",
    )
    schedule: DriftSchedule = Field(
        DriftSchedule.OFF, description="how often the job runs: off, daily or hourly"
    )
    window_hours: int | None = Field(
        None,
        ge=1,
        le=MAX_WINDOW_HOURS,
        description="hours of captures each run compares; default: the period",
    )
    max_drift_share: float = Field(
        0.3, gt=0, le=1, description="alarm when a run finds more than this share of features drifted"
    )

    @field_validator("features")
    @classmethod
    def _distinct(cls, features: list[str]) -> list[str]:
        repeated = sorted({f for f in features if features.count(f) > 1})
        if repeated:
            raise PydanticCustomError("features", "lists '{name}' twice", {"name": repeated[0]})
        joined = ",".join(features)
        if len(joined) > FEATURES_ARGUMENT_MAX_LENGTH:
            raise PydanticCustomError(
                "features",
                "the job takes the features as one argument of at most {limit} characters "
                "(CreateProcessingJob's limit); these join to {got}",
                {"limit": FEATURES_ARGUMENT_MAX_LENGTH, "got": len(joined)},
            )
        return features

    @model_validator(mode="after")
    def _window(self) -> DriftSettings:
        period = SCHEDULE_PERIOD_HOURS.get(self.schedule)
        if self.schedule is not DriftSchedule.OFF and not self.features:
            raise PydanticCustomError(
                "drift",
                "features are required when drift.schedule is {schedule}: name the captured features "
                "to compare, or set schedule: off",
                {"schedule": self.schedule.value},
            )
        if period and self.window_hours is not None and self.window_hours < period:
            raise PydanticCustomError(
                "drift",
                "window_hours ({window}) is shorter than the {schedule} schedule's {period} h: captures "
                "between runs would never be compared",
                {"window": self.window_hours, "schedule": self.schedule.value, "period": period},
            )
        return self

    @property
    def on(self) -> bool:
        return self.schedule is not DriftSchedule.OFF

    @property
    def window(self) -> int:
        """Hours each run compares: the setting, else the schedule's period."""
        return self.window_hours or SCHEDULE_PERIOD_HOURS.get(self.schedule, 24)

    @property
    def schedule_expression(self) -> str:
        return SCHEDULE_EXPRESSIONS[self.schedule]


# What stands between a model_monitor engine and a correct stack, said once.
MODEL_MONITOR_MISSING = (
    "is not supported yet: pulumi-aws declares SageMaker monitoring schedules and data-quality "
    "job definitions, but those need a Model Monitor baseline (statistics.json and constraints.json "
    "from a baselining job) and the region's Model Monitor analyzer image, and modelfleet produces "
    "neither (modelfleet drift baseline writes <model>/drift/baseline.json in its own format); "
    "use engine: modelfleet"
)


class StackDriftSettings(Strict):
    """Which engine runs the drift jobs of every model with drift on."""

    engine: DriftEngine = Field(
        DriftEngine.MODELFLEET,
        description="modelfleet (the stack's own scheduled job) or model_monitor (refused for now)",
    )

    @field_validator("engine")
    @classmethod
    def _supported(cls, engine: DriftEngine) -> DriftEngine:
        if engine is DriftEngine.MODEL_MONITOR:
            raise PydanticCustomError("engine", MODEL_MONITOR_MISSING)
        return engine
