"""The configuration reference, ``docs/configuration.md``, generated from the settings schema.

    .venv/bin/python -m infra.settings.docs --write    # regenerate docs/configuration.md
    .venv/bin/python -m infra.settings.docs            # print it
    .venv/bin/python -m infra.settings.docs --check    # exit 1 if the file is out of date

Nothing here knows a particular setting. It walks ``PlatformSettings`` and every
model nested in it (``model_fields``, ``Annotated``, ``Literal``, enums, lists,
mappings, optional values and unions of models, discriminated or not), reads types,
bounds, lengths, patterns, choices, defaults and descriptions from the fields, and
what a validator accepts from the message it gives an empty value. Per-tier values
come from ``with_tier_defaults``: what a stack file that is silent about a key gets.
Building the text is pure; only ``main`` reads or writes the file.
"""

from __future__ import annotations

import argparse
import enum
import inspect
import re
import sys
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from ipaddress import IPv4Network
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

from infra.settings import tiers as tiers_module
from infra.settings.errors import key_path
from infra.settings.platform import (
    MODELS_KEY,
    OPT_IN_MODEL_BLOCKS,
    PlatformSettings,
    SettingsError,
    load_settings,
    with_tier_defaults,
)
from infra.settings.tiers import TIERS, Tier

DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
COMMAND = ".venv/bin/python -m infra.settings.docs --write"
ITEM = "[]"  # a path part: any entry of a list
KEY = "<key>"  # a path part: any key of a mapping

# (tier, key path, union member's selector) -> what the tier sets there, or _UNSET.
TierLookup = Callable[[Tier, tuple[str, ...], tuple[tuple[str, Any], ...]], Any]
_UNSET = object()


@dataclass
class Row:
    """One setting: a field of a model, at a key path."""

    path: tuple[str, ...]
    owner: type[BaseModel]
    name: str
    info: FieldInfo
    links: list[Section] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.info.alias or self.name


@dataclass
class Section:
    """One model at one key path; a union member carries the discriminator value that selects it."""

    path: tuple[str, ...]
    model: type[BaseModel]
    selector: tuple[tuple[str, Any], ...]
    rows: list[Row] = field(default_factory=list)
    heading: str = ""


def display_path(path: tuple[str, ...]) -> str:
    """``('modelfleet:models', '[]', 'eks', 'pool')`` -> ``modelfleet:models[].eks.pool``."""
    text = ""
    for part in path:
        text += part if part == ITEM or not text else f".{part}"
    return text


# ---------------------------------------------------------------- walking the schema


def _strip(annotation: Any) -> tuple[Any, list[Any]]:
    """``Annotated[X, m1, m2]`` -> ``(X, [m1, m2])``, nested Annotated flattened."""
    metadata: list[Any] = []
    while get_origin(annotation) is Annotated:
        annotation, *extra = get_args(annotation)
        metadata = [*extra, *metadata]
    return annotation, metadata


def _is_union(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, types.UnionType)


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _discriminator(metadata: list[Any]) -> Any:
    for meta in metadata:
        if isinstance(meta, FieldInfo) and meta.discriminator is not None:
            return meta.discriminator
    return None


def _single_literal(annotation: Any) -> tuple[bool, Any]:
    annotation, _ = _strip(annotation)
    values = get_args(annotation) if get_origin(annotation) is Literal else ()
    if len(values) == 1:
        value = values[0]
        return True, value.value if isinstance(value, enum.Enum) else value
    return False, None


def _member_selectors(
    members: list[type[BaseModel]], discriminator: Any
) -> list[tuple[tuple[str, Any], ...]]:
    """What selects each member of a union: its discriminator's value, or a one-value Literal they share."""

    def keyed(model: type[BaseModel]) -> dict[str, FieldInfo]:
        return {(info.alias or name): info for name, info in model.model_fields.items()}

    names = [discriminator] if isinstance(discriminator, str) else list(keyed(members[0]))
    for name in names:
        found = [
            _single_literal(keyed(m)[name].annotation) if name in keyed(m) else (False, None) for m in members
        ]
        if all(ok for ok, _ in found) and len({repr(v) for _, v in found}) == len(members):
            return [((name, value),) for _, value in found]
    return [() for _ in members]


def _models_in(
    annotation: Any, metadata: list[Any] | None = None
) -> Iterator[tuple[tuple[str, ...], type[BaseModel], tuple]]:
    """Models reachable in an annotation: (path suffix, model, selector) for each."""
    annotation, more = _strip(annotation)
    metadata = [*(metadata or []), *more]
    origin = get_origin(annotation)
    if _is_model(annotation):
        yield (), annotation, ()
    elif _is_union(annotation):
        args = [a for a in get_args(annotation) if a is not type(None)]
        members = [a for a in (_strip(a)[0] for a in args) if _is_model(a)]
        if len(members) > 1:
            for member, selector in zip(
                members, _member_selectors(members, _discriminator(metadata)), strict=True
            ):
                yield (), member, selector
        for arg in args:
            if not _is_model(_strip(arg)[0]) or len(members) <= 1:
                yield from _models_in(arg, metadata if len(args) == 1 else None)
    elif origin in (list, tuple, set, frozenset):
        for arg in get_args(annotation):
            if arg is not Ellipsis:
                for suffix, model, selector in _models_in(arg):
                    yield (ITEM, *suffix), model, selector
    elif origin is dict:
        for suffix, model, selector in _models_in(get_args(annotation)[1]):
            yield (KEY, *suffix), model, selector


def walk(root: type[BaseModel]) -> list[Section]:
    """Every model under ``root`` at every key path, depth first; the root's section first."""
    seen: dict[tuple[tuple[str, ...], type[BaseModel]], Section] = {}
    order: list[Section] = []

    def visit(model: type[BaseModel], path: tuple[str, ...], selector: tuple) -> Section:
        if (path, model) in seen:
            return seen[(path, model)]
        section = Section(path, model, selector)
        seen[(path, model)] = section
        order.append(section)
        for name, info in model.model_fields.items():
            row = Row((*path, info.alias or name), model, name, info)
            section.rows.append(row)
            for suffix, inner, inner_selector in _models_in(info.annotation, [*info.metadata, info]):
                row.links.append(visit(inner, (*row.path, *suffix), selector + inner_selector))
        return section

    visit(root, (), ())
    by_path: dict[tuple[str, ...], set[type[BaseModel]]] = {}
    for section in order:
        by_path.setdefault(section.path, set()).add(section.model)
    for section in order:
        heading = display_path(section.path) or "Stack keys"
        if len(by_path[section.path]) > 1:
            label = ", ".join(f"{k}: {yaml_value(v)}" for k, v in section.selector) or section.model.__name__
            heading += f" ({label})"
        section.heading = heading
    return order


# ---------------------------------------------------------------- types, rules, defaults


def yaml_value(value: Any) -> str:
    """A value as it is written in a stack file (YAML flow style)."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json", by_alias=True)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return yaml_value(value.value)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple | set | frozenset):
        return "[" + ", ".join(yaml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{yaml_value(k)}: {yaml_value(v)}" for k, v in value.items()) + "}"
    text = str(value)
    plain = re.fullmatch(r"[A-Za-z_/][\w./@-]*", text) and text.lower() not in _YAML_WORDS
    return text if plain else '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "y", "n", "null", "~"}

_SCALARS = {str: "text", int: "integer", float: "number", bool: "true or false", IPv4Network: "CIDR block"}


def _scalar_name(annotation: Any) -> str:
    if annotation in _SCALARS:
        return _SCALARS[annotation]
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return _choice_type([m.value for m in annotation])
    return getattr(annotation, "__name__", str(annotation))


def _choice_type(values: list[Any]) -> str:
    kinds = {_scalar_name(type(v.value if isinstance(v, enum.Enum) else v)) for v in values}
    return kinds.pop() if len(kinds) == 1 else "value"


def _bounds(metadata: list[Any]) -> str | None:
    low = high = None
    for meta in metadata:
        if isinstance(meta, annotated_types.Ge):
            low = f"{meta.ge}"
        elif isinstance(meta, annotated_types.Gt):
            low = f"above {meta.gt}"
        elif isinstance(meta, annotated_types.Le):
            high = f"{meta.le}"
        elif isinstance(meta, annotated_types.Lt):
            high = f"below {meta.lt}"
    if low is None and high is None:
        return None
    if low is None:
        return f"at most {high}" if not high.startswith("below") else high
    if high is None:
        return f"at least {low}" if not low.startswith("above") else low
    if low.startswith("above") or high.startswith("below"):
        return f"{low}, {'up to ' + high if not high.startswith('below') else high}"
    return f"{low} to {high}"


def _lengths(metadata: list[Any], base: Any) -> str | None:
    low = next((m.min_length for m in metadata if isinstance(m, annotated_types.MinLen)), None)
    high = next((m.max_length for m in metadata if isinstance(m, annotated_types.MaxLen)), None)
    unit = "item" if get_origin(base) in (list, tuple, set, frozenset, dict) else "character"
    if low is None and high is None:
        return None
    if low == 1 and high is None:
        return "not empty"
    if high is None:
        return f"at least {low} {unit}s"
    if low is None:
        return f"at most {high} {unit}s"
    return f"{low} to {high} {unit}s"


def _probe(validator: Any, base: Any) -> str | None:
    """What a one-argument validator accepts, in its own words: the message it gives an empty value."""
    func = getattr(validator, "func", None)
    raw = type(validator).__name__ in ("PlainValidator", "BeforeValidator")
    if func is None or not (base is str or raw):
        return None
    try:
        required = [p for p in inspect.signature(func).parameters.values() if p.default is p.empty]
    except (TypeError, ValueError):
        return None
    if len(required) != 1:
        return None
    try:
        func("")
    except PydanticCustomError as error:
        message = re.sub(r"\s*\(got [^()]*\)", "", error.message()).strip()
        message = re.sub(r"^'' is not ", "", message)
        return re.sub(r"^must be ", "", message)
    except Exception:  # a validator that cannot take an empty value says nothing we can quote
        return None
    return None


def _rules(annotation: Any, metadata: list[Any]) -> tuple[str, list[str]]:
    """(type, what is allowed) of an annotation, its own metadata included."""
    base, more = _strip(annotation)
    metadata = [*metadata, *more]
    nested = [m for m in metadata if isinstance(m, FieldInfo)]
    for info in nested:
        metadata = [*metadata, *info.metadata]
    rules: list[str] = []
    origin = get_origin(base)
    if _is_union(base):
        args = [a for a in get_args(base) if a is not type(None)]
        optional = len(args) < len(get_args(base))
        models = [a for a in args if _is_model(_strip(a)[0])]
        if len(models) > 1:
            kind = "mapping"
        else:
            parts = [_rules(a, metadata if len(args) == 1 else []) for a in args]
            kind = " or ".join(t for t, _ in parts)
            rules = [r for _, rs in parts for r in rs]
        return (f"{kind} or null" if optional else kind), rules
    if origin is Literal:
        values = list(get_args(base))
        shown = ", ".join(f"`{yaml_value(v)}`" for v in values)
        rules.append(f"one of {shown}" if len(values) > 1 else f"only {shown}")
        kind = _choice_type(values)
    elif isinstance(base, type) and issubclass(base, enum.Enum):
        rules.append("one of " + ", ".join(f"`{yaml_value(m)}`" for m in base))
        kind = _scalar_name(base)
    elif _is_model(base):
        kind = "mapping"
    elif origin in (list, tuple, set, frozenset):
        item = get_args(base)[0] if get_args(base) else Any
        item_kind, item_rules = _rules(item, [])
        kind = "list of mappings" if item_kind == "mapping" else f"list of {item_kind}"
        rules += [f"each: {r}" for r in item_rules]
    elif origin is dict:
        key, value = get_args(base)
        key_kind, key_rules = _rules(key, [])
        value_kind, value_rules = _rules(value, [])
        kind = f"mapping of {key_kind} to {value_kind}"
        rules += [f"keys: {r}" for r in key_rules] + [f"values: {r}" for r in value_rules]
    else:
        kind = _scalar_name(base)
    for text in (_bounds(metadata), _lengths(metadata, base)):
        if text:
            rules.append(text)
    for meta in metadata:
        pattern = getattr(meta, "pattern", None)
        if isinstance(pattern, str):
            rules.append(f"matches `{pattern}`")
        if (said := _probe(meta, base)) is not None:
            rules.append(said)
    rules += [info.description for info in nested if info.description]
    return kind, rules


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "required"
    value = info.get_default(call_default_factory=True, validated_data={})
    if isinstance(value, BaseModel):
        return "its keys' defaults"
    return f"`{yaml_value(value)}`"


def _doc(model: type[BaseModel]) -> str:
    """A model's own docstring (not one it inherits), as markdown."""
    text = model.__dict__.get("__doc__")
    return re.sub(r"``([^`]+)``", r"`\1`", inspect.cleandoc(text)) if text else ""


def _description(row: Row) -> str:
    if row.info.description:
        return row.info.description
    if len(row.links) != 1:  # several models (a union): no one docstring speaks for the key
        return ""
    return _doc(row.links[0].model).split("\n\n")[0].replace("\n", " ")


# ---------------------------------------------------------------- tier values


def _list_keys(root: type[BaseModel]) -> list[str]:
    """Root keys that hold a list of entries (a tier may set defaults for every entry)."""
    return [
        info.alias or name
        for name, info in root.model_fields.items()
        if any(suffix[:1] == (ITEM,) for suffix, _, _ in _models_in(info.annotation))
    ]


class StackTierValues:
    """What each tier sets at a key path, found the way a stack is loaded: with ``with_tier_defaults``.

    A silent stack file (only ``modelfleet:tier``, and one entry in each list of
    entries, holding the union member's discriminator) is merged with its tier's
    values; what the merge adds is the tier's default.
    """

    def __init__(self, root: type[BaseModel] = PlatformSettings):
        self.list_keys = _list_keys(root)
        self._trees: dict[tuple[Tier, tuple], dict[str, Any]] = {}

    def tree(self, tier: Tier, selector: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
        if (tier, selector) not in self._trees:
            seeds = {key: dict(selector) for key in self.list_keys}
            if MODELS_KEY in seeds:  # opt-in blocks take their tier's values only when written
                seeds[MODELS_KEY] |= {block: {} for block in OPT_IN_MODEL_BLOCKS}
            config = {"modelfleet:tier": tier.value} | {key: [dict(seed)] for key, seed in seeds.items()}
            merged = with_tier_defaults(config)
            merged.pop("modelfleet:tier", None)
            for key in self.list_keys:
                entry, seed = (merged.get(key) or [{}])[0], seeds[key]
                merged[key] = {ITEM: {k: v for k, v in entry.items() if k not in seed or v != seed[k]}}
            self._trees[(tier, selector)] = merged
        return self._trees[(tier, selector)]

    def __call__(self, tier: Tier, path: tuple[str, ...], selector: tuple[tuple[str, Any], ...]) -> Any:
        node: Any = self.tree(tier, selector)
        for part in path:
            if not isinstance(node, dict) or part not in node:
                return _UNSET
            node = node[part]
        return node


def _leaves(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """The key paths of ``node``'s values; an empty mapping (a list no tier fills) has none."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, (*path, key))
    else:
        yield path


def unmatched_tier_defaults(root: type[BaseModel] = PlatformSettings) -> list[str]:
    """Tier values at a key path no setting has: a tier default that would be refused as unknown."""
    sections = walk(root)
    rows = [row for section in sections for row in section.rows]
    lookup = StackTierValues(root)
    selectors = {section.selector for section in sections}
    found = set()
    for tier in Tier:
        for selector in selectors:
            for leaf in _leaves(lookup.tree(tier, selector)):
                if not any(leaf[: len(r.path)] == r.path and (leaf == r.path or not r.links) for r in rows):
                    found.add(display_path(leaf))
    return sorted(found)


# ---------------------------------------------------------------- markdown


def anchor(heading: str) -> str:
    """The id GitHub gives a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _cell(text: str) -> str:
    """Table-safe markdown: code spans kept, HTML-looking text escaped, pipes escaped."""
    parts = re.split(r"(`[^`]*`)", text.replace("\n", " "))
    out = [
        p if p.startswith("`") else p.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        for p in parts
    ]
    return "".join(out).replace("|", "\\|")


def _module_path(obj: Any) -> str:
    name = obj.__name__ if isinstance(obj, types.ModuleType) else obj.__module__
    return name.replace(".", "/") + ".py"


def _type_cell(row: Row) -> str:
    kind, _ = _rules(row.info.annotation, list(row.info.metadata))
    if not row.links:
        return kind
    links = ", ".join(f"[{_heading_text(s)}](#{anchor(s.heading)})" for s in row.links)
    return f"{kind}: {links}"


def render_section(section: Section, lookup: TierLookup | None) -> list[str]:
    named = [part for part in section.path if part not in (ITEM, KEY)]
    level = "##" if len(named) <= 1 else "###"
    lines = [f"{level} {_heading_text(section)}", ""]
    where = f"`{section.model.__name__}` in `{_module_path(section.model)}`"
    doc = _doc(section.model)
    if section.path and section.path[-1] in (ITEM, KEY):
        where = f"Each {'entry' if section.path[-1] == ITEM else 'value'}: {where}"
    lines += [f"{where}." + (f" {doc}" if doc else ""), ""]
    tier_cells: dict[int, list[str]] = {}
    for index, row in enumerate(section.rows):
        values = [lookup(t, row.path, section.selector) if lookup else _UNSET for t in Tier]
        if any(v is not _UNSET and not (row.links and isinstance(v, dict)) for v in values):
            tier_cells[index] = ["" if v is _UNSET else f"`{yaml_value(v)}`" for v in values]
    header = (
        ["key", "type", "allowed", "default"]
        + ([t.value for t in Tier] if tier_cells else [])
        + ["description"]
    )
    lines += ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for index, row in enumerate(section.rows):
        _, rules = _rules(row.info.annotation, list(row.info.metadata))
        cells = [
            f"`{display_path(row.path)}`" if section.path else _root_key(row),
            _type_cell(row),
            "; ".join(rules),
            _default(row.info),
            *(tier_cells.get(index, [""] * len(Tier)) if tier_cells else []),
            _description(row),
        ]
        lines.append(
            "| "
            + " | ".join(_cell(c) if i != 1 else c.replace("|", "\\|") for i, c in enumerate(cells))
            + " |"
        )
    return [*lines, ""]


def _heading_text(section: Section) -> str:
    """The key path in a code span (it may hold ``<key>``), and what selects a union member."""
    if not section.path:
        return section.heading
    path, _, label = section.heading.partition(" (")
    return f"`{path}`" + (f" ({label}" if label else "")


def _root_key(row: Row) -> str:
    """A stack key as written, or, for a field the loader fills in (the stack name), what it is."""
    named = key_path((row.key,))
    return f"`{row.key}`" if named == row.key else f"{named} (not a key in the file; `{row.key}`)"


def reference(root: type[BaseModel], lookup: TierLookup | None = None) -> str:
    """The settings reference alone: one table per model, at every key path it is used."""
    sections = walk(root)
    return "\n".join(line for section in sections for line in render_section(section, lookup))


def _sources(sections: list[Section]) -> list[str]:
    return sorted({_module_path(s.model) for s in sections} | {_module_path(tiers_module)})


def _tier_table() -> list[str]:
    lines = [
        "| tier | intent | fewest instances `new-model` sizes a SageMaker model with |",
        "| --- | --- | --- |",
    ]
    for tier, profile in TIERS.items():
        lines.append(f"| `{tier.value}` | {_cell(profile.why)} | {profile.min_instances} |")
    return lines


_PREAMBLE = """\
Everything a stack sets lives in its `stacks/Pulumi.<env>.yaml`. A key the file does
not mention takes its tier's value (the `dev`, `staging` and `prod` columns below),
or else the schema's default, so stack files name only what differs:

```yaml
config:
  aws:region: eu-west-1
  modelfleet:tier: prod                 # dev | staging | prod: picks the defaults
  modelfleet:owner: ml-platform         # tag on every resource
  modelfleet:cost_center: CC-4410-prod  # tag on every resource
  modelfleet:tags:                      # optional extra tags on every resource
    data-classification: confidential
  modelfleet:protect_stateful: true     # tier default: prod true, else false
  modelfleet:network:
    cidr: 10.30.0.0/16                  # required; RFC 1918, /16 to /24
    az_count: 3                         # 2 to 6
    # availability_zones: [eu-west-1a, eu-west-1b, eu-west-1c]   # pin zones; default: the first az_count
    nat_strategy: per_az                # none (no NAT, no internet gateway) | single | per_az
    private_subnet_prefix: 19           # 16 to 27; subnet i takes slot i from the bottom of the CIDR...
    public_subnet_prefix: 24            # 20 to 28; ...public ones count down from the top
    # private_subnet_cidrs: [...]       # or list them explicitly, one per AZ
    # public_subnet_cidrs: [...]
    interface_endpoints: [sagemaker.api, sagemaker.runtime, ecr.api, ecr.dkr, logs, monitoring, sts]
    flow_logs:
      retention_days: 365               # a CloudWatch Logs retention value
      traffic_type: ALL                 # ALL | ACCEPT | REJECT
      max_aggregation_interval_seconds: 60   # 60 | 600
  modelfleet:retention:
    log_days: 365                       # endpoint log groups (a CloudWatch retention value)
    data_capture_days: 90               # captured payloads expire after this
  modelfleet:alerts:
    emails: [ml-platform-oncall@example.com]   # subscribed to the stack's alarm topic
  # modelfleet:models, modelfleet:cluster, modelfleet:gpu_pools: the model catalog and the
  # EKS cluster, below; full entries in docs/architecture.md
```

Each AZ's subnets have fixed slots, so raising `az_count` adds subnets and never
moves (replaces) existing ones; changing a prefix does move them. Zones are taken in
name order whatever their state today, so an impaired zone never reshuffles subnets;
pin them with `availability_zones` to be explicit.

Every problem in a stack file is reported at once, each with its key path and what
is allowed, and nothing is deployed or planned:

{broken}

Checked: types and required keys, unknown keys (typos) at every level, enum values,
ranges, CIDR syntax and host bits, VPC prefix and private ranges, explicit subnets
inside the VPC, one per AZ and not overlapping, derived subnets fitting the VPC, tag
keys and values, the region and the stack name; in every mapping a `min_X` may not
exceed its `max_X`, and rules that span keys (variant weights adding up to 100, a
canary's artifact, an EKS model's pool) are checked too. Only `aws:region` and the
`modelfleet:` namespace are read; other provider keys (`aws:profile`, ...) pass through.
Exit codes: `0` fine, `2` invalid stack or config, `1` the program stopped (for example
a region with fewer zones than `az_count`). `make validate STACK=<stack>` checks a stack
file only.
"""


# A stack file with three mistakes, shown with the problems the loader reports for it.
_BROKEN = {
    "aws:region": "eu-west-1",
    "modelfleet:tier": "dev",
    "modelfleet:owner": "ml-platform",
    "modelfleet:cost_center": "CC-4410-dev",
    "modelfleet:network": {"cidr": "10.30.0.0/33", "az_count": 9, "nat_stratgy": "single"},
}


def _broken_example() -> str:
    try:
        load_settings("broken", _BROKEN)
    except SettingsError as error:
        return "\n".join(["```text", "$ make plan STACK=broken", "✗ stack broken", str(error), "```"])
    raise AssertionError("the broken example stack loaded without problems")


def render(root: type[BaseModel] = PlatformSettings) -> str:
    """The whole of docs/configuration.md."""
    sections = walk(root)
    sources = ", ".join(f"`{s}`" for s in _sources(sections))
    lines = [
        f"<!-- Generated by `{COMMAND}`: do not edit. -->",
        "",
        "# Configuration",
        "",
        f"Generated from the settings schema and the tier table ({sources}).",
        "Do not edit this file: change a field's `description=` or the tier table, then regenerate:",
        "",
        "```bash",
        f"{COMMAND}          # or: .venv/bin/python -m infra.settings.docs > docs/configuration.md",
        "```",
        "",
        "`tests/settings/test_docs.py` fails while this file differs from a fresh generation.",
        "",
        _PREAMBLE.format(broken=_broken_example()),
        "## Tiers",
        "",
        "A stack names its tier with `modelfleet:tier`; the tier fills in every key the stack file",
        "leaves out, per the `dev`, `staging` and `prod` columns of the tables below (blank: the",
        "schema's default applies). Under `modelfleet:models` and `modelfleet:gpu_pools` the tier's",
        "values apply to every entry, except in an opt-in block ("
        + ", ".join(f"`{b}`" for b in OPT_IN_MODEL_BLOCKS)
        + "): a tier fills it in only for the entries that write it.",
        "",
        *_tier_table(),
        "",
        "## Reference",
        "",
        "Key paths are written as in the stack file: `a.b` is key `b` inside mapping `a`, `a[]` any",
        "entry of list `a`, and a stack key's value is under `config:` in `stacks/Pulumi.<env>.yaml`.",
        "",
    ]
    text = "\n".join(lines) + "\n" + reference(root, StackTierValues(root))
    return text.rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.settings.docs", description=__doc__.splitlines()[0]
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--write", action="store_true", help=f"write {DOC_PATH.relative_to(DOC_PATH.parents[1])}"
    )
    mode.add_argument(
        "--check", action="store_true", help="exit 1 if the file differs from a fresh generation"
    )
    args = parser.parse_args(argv)
    text = render()
    if args.write:
        DOC_PATH.write_text(text)
        return 0
    if args.check:
        current = DOC_PATH.read_text() if DOC_PATH.exists() else ""
        if current != text:
            print(f"{DOC_PATH} is out of date: run {COMMAND}", file=sys.stderr)
            return 1
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
