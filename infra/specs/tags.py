"""The one tag set merged into every taggable resource (pure; tested without mocks).

Tags carry ownership and cost attribution, so they come from the stack's settings
only: components receive the finished mapping and add a ``Name`` at most.
"""

from __future__ import annotations

from collections.abc import Mapping

from infra import PROJECT
from infra.settings.platform import PlatformSettings


def base(settings: PlatformSettings, **extra: str) -> dict[str, str]:
    """Stack tags: the stack's own extra tags, then the ones modelfleet guarantees."""
    return {
        **settings.tags,
        "environment": settings.environment,
        "project": PROJECT,
        "owner": settings.owner,
        "cost-center": settings.cost_center,
        "managed-by": "pulumi",
        **extra,
    }


def named(tags: Mapping[str, str], name: str) -> dict[str, str]:
    """``tags`` plus the ``Name`` tag the AWS console shows."""
    return {**tags, "Name": name}
