"""Turn pydantic validation errors into stack-config problems a person can act on.

Each problem names the config key path as it is written in the stack file
(``modelfleet:network.az_count``) and what is allowed there. Nothing here knows
about particular settings: allowed keys, bounds and choices are read from the
models themselves, so a new setting gets good messages for free.
"""

from __future__ import annotations

import difflib
import enum
import types
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import core_schema


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class SettingsError(Exception):
    """A stack's config is invalid. ``problems`` holds every one found."""

    def __init__(self, stack: str, problems: list[Problem]):
        self.stack = stack
        self.problems = problems
        count = len(problems)
        lines = [f"stack '{stack}' has {count} configuration problem{'s' * (count != 1)}:"]
        lines += [f"  - {problem}" for problem in problems]
        super().__init__("\n".join(lines))


def key_path(loc: tuple[str | int, ...]) -> str:
    """``('modelfleet:network', 'subnets', 1)`` -> ``modelfleet:network.subnets[1]``."""
    if not loc:
        return "(stack)"
    head, *rest = loc
    path = "stack name" if head == "environment" else str(head)
    for part in rest:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated[...] and Optional[...] down to the type that carries structure."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


def _field_for(model: type[BaseModel], key: str) -> FieldInfo | None:
    for name, field in model.model_fields.items():
        if key in (name, field.alias):
            return field
    return None


def _locate(root: type[BaseModel], loc: tuple[str | int, ...]) -> tuple[Any, FieldInfo | None]:
    """Walk the models along ``loc``: the annotation there and the last field passed."""
    annotation: Any = root
    field: FieldInfo | None = None
    for part in loc:
        annotation = _unwrap(annotation)
        origin = get_origin(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel) and isinstance(part, str):
            field = _field_for(annotation, part)
            if field is None:
                return None, None
            annotation = field.annotation
        elif origin in (list, tuple) and isinstance(part, int):
            annotation = get_args(annotation)[0]
        elif origin is dict:
            annotation = get_args(annotation)[1]
        else:
            return None, field
    return annotation, field


def _choices(annotation: Any) -> list[Any] | None:
    annotation = _unwrap(annotation)
    if get_origin(annotation) is Literal:
        return list(get_args(annotation))
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return [member.value for member in annotation]
    return None


def _bounds(field: FieldInfo | None) -> tuple[Any, Any]:
    low = high = None
    for meta in field.metadata if field else []:
        if isinstance(meta, annotated_types.Ge | annotated_types.Gt):
            low = getattr(meta, "ge", None) if isinstance(meta, annotated_types.Ge) else meta.gt
        if isinstance(meta, annotated_types.Le | annotated_types.Lt):
            high = getattr(meta, "le", None) if isinstance(meta, annotated_types.Le) else meta.lt
    return low, high


def _got(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _describe(error: Any, root: type[BaseModel]) -> str:
    kind, loc, value = error["type"], error["loc"], error.get("input")
    annotation, field = _locate(root, loc)
    if kind == "missing":
        hint = f" ({field.description})" if field and field.description else ""
        return f"is required{hint}"
    if kind == "extra_forbidden":
        parent, _ = _locate(root, loc[:-1])
        parent = _unwrap(parent)
        allowed = (
            sorted((f.alias or n) for n, f in parent.model_fields.items() if n != "environment")
            if isinstance(parent, type) and issubclass(parent, BaseModel)
            else []
        )
        near = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f" (did you mean '{near[0]}'?)" if near else ""
        return f"unknown key{hint}; allowed keys: {', '.join(allowed)}"
    if kind in ("literal_error", "enum"):
        choices = _choices(annotation) or [error.get("ctx", {}).get("expected")]
        return f"must be one of {', '.join(map(str, choices))} (got {_got(value)})"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        low, high = _bounds(field)
        if low is not None and high is not None:
            return f"must be between {low} and {high} (got {_got(value)})"
        return f"{error['msg'].replace('Input should be', 'must be')} (got {_got(value)})"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"must be a whole number (got {_got(value)})"
    if kind in ("bool_parsing", "bool_type"):
        return f"must be true or false (got {_got(value)})"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"must be a mapping of settings (got {_got(value)})"
    if kind == "list_type":
        return f"must be a list (got {_got(value)})"
    if kind == "string_type":
        return f"must be text (got {_got(value)})"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_pattern_mismatch":
        hint = f"; {field.description}" if field and field.description else ""
        pattern = error.get("ctx", {}).get("pattern")
        return f"must match {pattern}{hint} (got {_got(value)})"
    if kind == "value_error":
        return error["msg"].removeprefix("Value error, ")
    if kind not in _PYDANTIC_ERROR_TYPES:
        return error["msg"]  # a PydanticCustomError of ours: it already says what is wrong
    return f"{error['msg']} (got {_got(value)})"


_PYDANTIC_ERROR_TYPES = frozenset(get_args(core_schema.ErrorType))


def problems_from(exc: ValidationError, root: type[BaseModel]) -> list[Problem]:
    """Every error in ``exc`` as a Problem, sorted by key path, duplicates removed."""
    problems = set()
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        if loc and loc[-1] == "[key]":  # pydantic marks a bad dict key this way
            loc = loc[:-1]
        problems.add(Problem(key_path(loc), _describe({**error, "loc": loc}, root)))
    return sorted(problems)
