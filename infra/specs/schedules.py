"""Off-hours schedules as Application Auto Scaling cron expressions (pure).

Scale down when working hours end and restore when they start, on working days
only: a Friday-evening scale-down therefore lasts the whole weekend.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.settings.catalog import OffHoursSettings


@dataclass(frozen=True)
class OffHoursSchedule:
    scale_down: str  # cron(...) when working hours end
    scale_up: str  # cron(...) when they start
    timezone: str


def _cron(hour_minute: str, days: str) -> str:
    hour, minute = (int(part) for part in hour_minute.split(":"))
    # Fields: minutes hours day-of-month month day-of-week year.
    return f"cron({minute} {hour} ? * {days} *)"


def off_hours_schedule(settings: OffHoursSettings) -> OffHoursSchedule:
    return OffHoursSchedule(
        scale_down=_cron(settings.end, settings.days),
        scale_up=_cron(settings.start, settings.days),
        timezone=settings.timezone,
    )
