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


def _members(annotation: Any) -> list[type[BaseModel]]:
    """The models of a union (each possibly Annotated with its tag)."""
    if get_origin(annotation) not in (Union, types.UnionType):
        return []
    found = [_unwrap(a) for a in get_args(annotation)]
    return [m for m in found if isinstance(m, type) and issubclass(m, BaseModel)]


def union_key(annotation: Any) -> tuple[str, list[str]]:
    """A discriminated union's key and its values: ('backend', ['sagemaker', 'eks'])."""
    key, values = "type", []
    for member in _members(_unwrap(annotation)):
        for name, field in member.model_fields.items():
            if get_origin(field.annotation) is Literal:
                key = name
                values += [str(getattr(v, "value", v)) for v in get_args(field.annotation)]
    return key, values


def _tagged(annotation: Any, part: str | int) -> type[BaseModel] | None:
    """The member of a discriminated union that ``part`` names, when it is a tag like ``backend=eks``."""
    if not isinstance(part, str) or "=" not in part:
        return None
    key, _, value = part.partition("=")
    for member in _members(annotation):
        field = _field_for(member, key)
        if (
            field is not None
            and get_origin(field.annotation) is Literal
            and value in get_args(field.annotation)
        ):
            return member
    return None


def _step(annotation: Any, part: str | int) -> tuple[Any, FieldInfo | None, bool]:
    """One step along a loc: (annotation there, field passed, whether ``part`` was a union tag)."""
    annotation = _unwrap(annotation)
    member = _tagged(annotation, part)
    if member is not None:
        return member, None, True
    origin = get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel) and isinstance(part, str):
        field = _field_for(annotation, part)
        return (field.annotation if field else None), field, False
    if origin in (list, tuple) and isinstance(part, int):
        return get_args(annotation)[0], None, False
    if origin is dict:
        return get_args(annotation)[1], None, False
    return None, None, False


def without_tags(root: type[BaseModel], loc: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """``loc`` without the union tags pydantic puts in it (``models.0.eks.image`` -> ``models.0.image``)."""
    annotation: Any = root
    kept: list[str | int] = []
    for part in loc:
        annotation, _, tag = _step(annotation, part)
        if not tag:
            kept.append(part)
    return tuple(kept)


def _locate(root: type[BaseModel], loc: tuple[str | int, ...]) -> tuple[Any, FieldInfo | None]:
    """Walk the models along ``loc`` (union tags pick the member): the annotation there, the last field."""
    annotation: Any = root
    field: FieldInfo | None = None
    for part in loc:
        annotation, passed, tag = _step(annotation, part)
        field = passed if not tag else field
        if annotation is None:
            return None, field
    return annotation, field


def _only_in_sibling(parent: type[BaseModel], key: str) -> str | None:
    """'applies to backend eks only' when a sibling class of a discriminated union has ``key``."""
    for base in parent.__bases__:
        for sibling in base.__subclasses__():
            if sibling is parent or _field_for(sibling, key) is None:
                continue
            for name, field in sibling.model_fields.items():
                if get_origin(field.annotation) is Literal:
                    return f"applies to {name} {get_args(field.annotation)[0]} only"
    return None


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
        elsewhere = _only_in_sibling(parent, str(loc[-1])) if allowed else None
        if elsewhere:
            return elsewhere
        near = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f" (did you mean '{near[0]}'?)" if near else ""
        return f"unknown key{hint}; allowed keys: {', '.join(allowed)}"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        key, values = union_key(annotation)
        if kind == "union_tag_not_found" or not isinstance(value, dict):
            return f"is required: one of {', '.join(values)}"
        return f"must be one of {', '.join(values)} (got {_got(value.get(key))})"
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
        least = error.get("ctx", {}).get("min_length", 1)
        if least <= 1:
            return "must not be empty"
        return f"must be at least {least} characters (got {_got(value)})"
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
        original = tuple(error["loc"])
        if original and original[-1] == "[key]":  # pydantic marks a bad dict key this way
            original = original[:-1]
        loc = without_tags(root, original)
        if error["type"] in ("union_tag_invalid", "union_tag_not_found"):  # about the tag's own key
            loc = (*loc, union_key(_locate(root, original)[0])[0])
        problems.add(Problem(key_path(loc), _describe({**error, "loc": original}, root)))
    return sorted(problems)
