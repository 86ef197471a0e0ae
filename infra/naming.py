"""Physical names for resources that need one (pure; tested without mocks).

Most resources keep Pulumi's auto-names (logical name plus a random suffix), so
that replacements never collide. Names here are for what people search for in
the console or in logs, and for services whose names are short.
"""

from __future__ import annotations

import hashlib

from infra import PROJECT


def prefix(environment: str) -> str:
    """``modelfleet-dev``: the start of every physical name in a stack."""
    return f"{PROJECT}-{environment}"


def name(environment: str, *parts: str, max_length: int = 63) -> str:
    """``modelfleet-<env>-<parts>``, shortened with a stable hash when too long.

    The hash keeps two long names that share a prefix distinct after truncation.
    """
    full = "-".join([prefix(environment), *parts])
    if len(full) <= max_length:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:8]
    return f"{full[: max_length - 9].rstrip('-')}-{digest}"


def endpoint(environment: str, model_name: str) -> str:
    """``modelfleet-<env>-<model>``: the SageMaker endpoint, as the stack and the day-2 tools name it."""
    return name(environment, model_name)


def log_group(environment: str, *parts: str) -> str:
    """``/modelfleet/<env>/<parts>``: CloudWatch log groups sort by path."""
    return "/" + "/".join([PROJECT, environment, *parts])


def az_suffix(availability_zone: str) -> str:
    """``eu-west-1a`` -> ``a``: keeps per-AZ names short and readable."""
    return availability_zone.rsplit("-", 1)[-1].lstrip("0123456789") or availability_zone
