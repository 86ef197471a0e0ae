"""docs/configuration.md is generated from the settings schema and the tier table, and covers every setting.

The coverage check walks the models itself (not with the generator's walker), so a
field the generator skips, in any nested model or union member, fails here.
"""

from __future__ import annotations

import difflib
import re
import types
from enum import StrEnum
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import pytest
from pydantic import AfterValidator, BaseModel, Field
from pydantic_core import PydanticCustomError
from ruamel.yaml import YAML

from infra.settings import docs
from infra.settings.platform import PlatformSettings, load_settings
from infra.settings.tiers import TIERS
from tests.conftest import ROOT

REGENERATE = (
    "docs/configuration.md differs from a fresh generation: run "
    "`.venv/bin/python -m infra.settings.docs --write` and commit the result"
)


# ------------------------------------------------------------- an independent walk of the schema


def _models(annotation: Any) -> list[tuple[str, type[BaseModel]]]:
    """(path suffix, model) for every model inside an annotation."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _models(get_args(annotation)[0])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [("", annotation)]
    if origin in (Union, types.UnionType):
        return [found for arg in get_args(annotation) for found in _models(arg)]
    if origin in (list, tuple, set, frozenset):
        return [("[]" + s, m) for arg in get_args(annotation) if arg is not Ellipsis for s, m in _models(arg)]
    if origin is dict:
        return [(".<key>" + s, m) for s, m in _models(get_args(annotation)[1])]
    return []


def _settings(model: type[BaseModel], prefix: str = "") -> set[tuple[str, str]]:
    """(model name, key path) for every field of every model reachable from ``model``."""
    found = set()
    for name, info in model.model_fields.items():
        path = f"{prefix}.{info.alias or name}" if prefix else info.alias or name
        found.add((model.__name__, path))
        for suffix, inner in _models(info.annotation):
            found |= _settings(inner, path + suffix)
    return found


def _documented(text: str) -> set[tuple[str, str]]:
    """(model name, key path) for every table row, under the model its section names."""
    found = set()
    for section in re.split(r"(?m)^#{2,3} ", text):
        owner = re.search(r"^(?:Each \w+: )?`(\w+)` in `", section, flags=re.M)
        if owner is None:
            continue
        for cell in re.findall(r"^\| (.+?) \| ", section, flags=re.M):
            for path in re.findall(r"`([^`]+)`", cell):
                found.add((owner.group(1), path))
    return found


def _undocumented(root: type[BaseModel], text: str) -> list[tuple[str, str]]:
    return sorted(_settings(root) - _documented(text))


# ------------------------------------------------------------- the shipped document


def test_the_configuration_doc_is_up_to_date():
    current = (ROOT / "docs" / "configuration.md").read_text()
    fresh = docs.render()
    if current != fresh:
        diff = list(difflib.unified_diff(current.splitlines(), fresh.splitlines(), lineterm="", n=0))
        pytest.fail(f"{REGENERATE}\nfirst differences (- file, + fresh):\n" + "\n".join(diff[2:8]))


def test_the_doc_says_how_to_regenerate_it():
    head = "\n".join(docs.render().splitlines()[:12])
    assert "python -m infra.settings.docs --write" in head
    assert "do not edit" in head.lower()


def test_every_field_of_every_nested_model_is_documented():
    assert _undocumented(PlatformSettings, docs.render()) == []


def test_the_coverage_check_notices_a_missing_row():
    text = docs.render().replace("`modelfleet:network.flow_logs.traffic_type`", "`gone`")
    assert _undocumented(PlatformSettings, text) == [
        ("FlowLogSettings", "modelfleet:network.flow_logs.traffic_type")
    ]


def test_every_tier_default_lands_on_a_documented_setting():
    assert docs.unmatched_tier_defaults() == []


def _flat(values: dict[str, Any], prefix: str) -> dict[str, Any]:
    found = {}
    for key, value in values.items():
        path = f"{prefix}.{key}" if prefix else key
        found |= _flat(value, path) if isinstance(value, dict) else {path: value}
    return found


def _row(text: str, path: str) -> dict[str, str]:
    """The cells of the row for ``path``, by column name."""
    for section in re.split(r"(?m)^#{2,3} ", text):
        header = re.search(r"^\| (key \|.*) \|$", section, flags=re.M)
        row = re.search(rf"^\| `{re.escape(path)}` \| (.*) \|$", section, flags=re.M)
        if header and row:
            names = [c.strip() for c in header.group(1).split(" | ")]
            cells = [c.strip() for c in re.split(r"(?<!\\) \| ", f"`{path}` | {row.group(1)}")]
            return dict(zip(names, cells, strict=True))
    raise AssertionError(f"no row for {path}")


def test_tier_columns_show_what_each_tier_sets():
    text = docs.render()
    for tier, profile in TIERS.items():
        expected = (
            _flat(profile.stack, "")
            | _flat(profile.model, "modelfleet:models[]")
            | _flat(profile.pool, "modelfleet:gpu_pools[]")
        )
        for path, value in expected.items():
            assert _row(text, path)[tier.value] == f"`{docs.yaml_value(value)}`", (tier, path)


def test_the_stack_file_example_is_a_valid_stack():
    example = re.search(r"```yaml\n(.*?)```", docs.render(), flags=re.S).group(1)
    config = YAML(typ="safe").load(example)["config"]
    settings = load_settings("example", config)
    assert settings.network.az_count == config["modelfleet:network"]["az_count"]


def test_the_command_prints_writes_and_checks(tmp_path, monkeypatch, capsys):
    assert docs.main([]) == 0
    assert capsys.readouterr().out == docs.render()
    target = tmp_path / "configuration.md"
    monkeypatch.setattr(docs, "DOC_PATH", target)
    assert docs.main(["--check"]) == 1
    assert docs.main(["--write"]) == 0
    assert target.read_text() == docs.render()
    assert docs.main(["--check"]) == 0
    target.write_text(target.read_text() + "edited by hand\n")
    assert docs.main(["--check"]) == 1
    assert "--write" in capsys.readouterr().err


# ------------------------------------------------------------- shapes the schema may take


class Backend(StrEnum):
    SAGEMAKER = "sagemaker"
    EKS = "eks"


def _widget(value: str) -> str:
    if not value.startswith("w-"):
        raise PydanticCustomError("widget", "must be a widget name such as w-1 (got '{got}')", {"got": value})
    return value


class Alarms(BaseModel):
    """Thresholds."""

    cpu: int = Field(80, ge=1, le=100, description="of all vCPUs")


class GpuAlarms(BaseModel):
    gpu: float = Field(90, gt=0, le=100)


class SageMakerEntry(BaseModel):
    backend: Literal[Backend.SAGEMAKER]
    name: Annotated[str, AfterValidator(_widget)] = Field(description="the model")
    alarms: Alarms = Field(default_factory=Alarms)


class EksEntry(BaseModel):
    backend: Literal[Backend.EKS]
    name: str = Field(min_length=1)
    alarms: GpuAlarms = Field(default_factory=GpuAlarms)
    pools: dict[str, Alarms] = Field(default_factory=dict)
    mode: Literal["a", "b"] = "a"


class Root(BaseModel):
    models: list[Annotated[SageMakerEntry | EksEntry, Field(discriminator="backend")]] = Field(
        default_factory=list, alias="x:models"
    )
    single: SageMakerEntry | EksEntry | None = Field(None, alias="x:single", discriminator="backend")
    count: int = Field(3, alias="x:count", ge=2, le=6)
    zones: list[str] | None = Field(None, alias="x:zones")


def test_a_discriminated_union_gets_a_table_per_member():
    text = docs.reference(Root)
    assert _undocumented(Root, text) == []
    headings = re.findall(r"(?m)^#{2,3} (.*)$", text)
    assert "`x:models[]` (backend: sagemaker)" in headings
    assert "`x:models[]` (backend: eks)" in headings
    assert "`x:models[].alarms` (backend: eks)" in headings
    assert "`x:models[].pools.<key>`" in headings  # one model at that path: no label needed
    assert "`x:single` (backend: eks)" in headings


def test_rows_say_type_bounds_choices_defaults_and_what_validators_accept():
    text = docs.reference(Root)
    count = _row(text, "x:count")
    assert (count["type"], count["allowed"], count["default"]) == ("integer", "2 to 6", "`3`")
    assert _row(text, "x:zones")["type"] == "list of text or null"
    assert _row(text, "x:models[].mode")["allowed"] == "one of `a`, `b`"
    assert _row(text, "x:models[].backend")["allowed"] == "only `sagemaker`"  # the first member's row
    assert _row(text, "x:models[].name")["allowed"] == "a widget name such as w-1"
    assert "| `x:models[].backend` | text | only `eks` |" in text
    assert _row(text, "x:models[].alarms.gpu")["allowed"] == "above 0, up to 100"
    assert _row(text, "x:models[].alarms.cpu")["description"] == "of all vCPUs"
    assert "[`x:models[].pools.<key>`](#xmodelspoolskey)" in _row(text, "x:models[].pools")["type"]


def test_anchors_are_the_ones_github_makes():
    assert docs.anchor("`modelfleet:models[].eks` (backend: eks)") == "modelfleetmodelseks-backend-eks"
    assert docs.anchor("PR previews: the offline diff") == "pr-previews-the-offline-diff"


def test_every_setting_says_why_it_is_there():
    """A field without a description leaves a blank cell in docs/configuration.md."""
    from typing import get_args

    from pydantic import BaseModel

    from infra.settings.catalog import EksModel, SageMakerModel
    from infra.settings.platform import PlatformSettings

    seen: set[type] = set()
    silent: list[str] = []

    def walk(model: type[BaseModel]) -> None:
        if model in seen:
            return
        seen.add(model)
        for name, field in model.model_fields.items():
            if not field.description:
                silent.append(f"{model.__name__}.{name}")
            stack = [field.annotation]
            while stack:
                kind = stack.pop()
                if isinstance(kind, type) and issubclass(kind, BaseModel):
                    walk(kind)
                stack += list(get_args(kind))

    for root in (PlatformSettings, SageMakerModel, EksModel):
        walk(root)
    assert silent == []
