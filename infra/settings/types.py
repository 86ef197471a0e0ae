"""Value types shared by every settings model: CIDRs, tags, the strict base.

Each type carries its own check and message, so a bad value reads the same
wherever it appears in a stack file.
"""

from __future__ import annotations

import re
from ipaddress import IPv4Network
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    PlainSerializer,
    PlainValidator,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError


def _parse_cidr(value: Any) -> IPv4Network:
    if isinstance(value, IPv4Network):
        return value
    if not isinstance(value, str) or "/" not in value:
        raise PydanticCustomError(
            "cidr", "must be an IPv4 CIDR block such as 10.20.0.0/16 (got '{got}')", {"got": value}
        )
    try:
        return IPv4Network(value, strict=True)
    except ValueError:
        pass
    try:
        loose = IPv4Network(value, strict=False)
    except ValueError:
        raise PydanticCustomError(
            "cidr", "is not a valid IPv4 CIDR block (got '{got}')", {"got": value}
        ) from None
    raise PydanticCustomError(
        "cidr",
        "has host bits set; did you mean {fix}? (got '{got}')",
        {"got": value, "fix": str(loose)},
    )


Cidr = Annotated[IPv4Network, PlainValidator(_parse_cidr), PlainSerializer(str)]

_TAG_TEXT = re.compile(r"^[\w .:/=+\-@]*$")
# Tags modelfleet sets itself on every resource; a stack may not override them.
RESERVED_TAG_KEYS = frozenset({"environment", "project", "owner", "cost-center", "managed-by"})


def _tag_key(key: str) -> str:
    if not 1 <= len(key) <= 128 or not _TAG_TEXT.match(key):
        raise PydanticCustomError(
            "tag",
            "tag key must be 1-128 letters, digits, spaces or _.:/=+-@ (got '{got}')",
            {"got": key},
        )
    if key.lower().startswith("aws:"):
        raise PydanticCustomError("tag", "tag keys starting with 'aws:' are reserved by AWS", {})
    if key.lower() in RESERVED_TAG_KEYS:
        setting = "the stack name" if key == "environment" else f"modelfleet:{key.replace('-', '_')}"
        raise PydanticCustomError(
            "tag",
            "tag '{key}' is set by modelfleet; use {setting} instead",
            {"key": key, "setting": setting},
        )
    return key


def _tag_value(value: str) -> str:
    if len(value) > 256 or not _TAG_TEXT.match(value):
        raise PydanticCustomError(
            "tag",
            "must be at most 256 letters, digits, spaces or _.:/=+-@ (got '{got}')",
            {"got": value},
        )
    return value


TagKey = Annotated[str, AfterValidator(_tag_key)]
TagValue = Annotated[str, AfterValidator(_tag_value)]


class Strict(BaseModel):
    """Base for every settings model: unknown keys are typos, so they are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _ordered_bounds(self) -> Strict:
        """Every ``min_X``/``max_X`` pair of every settings model: min must not exceed max.

        Checked here, once for all models, so a new pair can't be left unchecked.
        The problem is reported at the ``min_X`` key, so the message carries the
        whole key path (``modelfleet:gpu_pools[0].min_size``), not just the entry.
        """
        for low in type(self).model_fields:
            high = "max_" + low.removeprefix("min_")
            if not low.startswith("min_") or high not in type(self).model_fields:
                continue
            low_value, high_value = getattr(self, low), getattr(self, high)
            if low_value is None or high_value is None or low_value <= high_value:
                continue
            error = PydanticCustomError(
                "bounds", "{low_key} ({low}) is above {high_key} ({high})",
                {"low_key": low, "low": low_value, "high_key": high, "high": high_value},
            )  # fmt: skip
            raise ValidationError.from_exception_data(
                type(self).__name__, [InitErrorDetails(type=error, loc=(low,), input=low_value)]
            )
        return self


def _vpc_cidr(network: IPv4Network) -> IPv4Network:
    from infra.specs.subnets import vpc_cidr_problem  # noqa: PLC0415 - keeps this module free of layout code

    if problem := vpc_cidr_problem(network):
        raise PydanticCustomError(
            "cidr", "{problem} (got '{got}')", {"problem": problem, "got": str(network)}
        )
    return network


VpcCidr = Annotated[Cidr, AfterValidator(_vpc_cidr)]
