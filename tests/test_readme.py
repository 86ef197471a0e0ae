"""The README's configuration section must name every setting the code accepts."""

import re
from typing import get_args

from pydantic import BaseModel

from infra.settings.platform import PlatformSettings
from tests.conftest import ROOT


def _models_in(annotation) -> list[type[BaseModel]]:
    """BaseModel types inside an annotation: X, X | None, list[X]."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models_in(arg)]


def _keys(model: type[BaseModel]) -> set[str]:
    found = set()
    for name, field in model.model_fields.items():
        found.add(field.alias or name)
        for inner in _models_in(field.annotation):
            found |= _keys(inner)
    return found - {"environment"}


def _documented_keys() -> set[str]:
    """Keys written as YAML keys in the README's yaml blocks (not merely mentioned in prose)."""
    blocks = re.findall(r"```yaml\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    keys = set()
    for block in blocks:
        keys |= set(re.findall(r"^\s*(?:- )?#?\s*([\w:-]+):(?:\s|$)", block, flags=re.M))
        keys |= set(re.findall(r"[{,]\s*([\w-]+):\s", block))  # flow mappings: {a: 1, b: 2}
    return keys


def test_every_setting_is_documented_as_a_yaml_key():
    missing = sorted(_keys(PlatformSettings) - _documented_keys())
    assert missing == []


def test_the_check_notices_an_undocumented_key():
    assert "not_a_setting_anywhere" not in _documented_keys()
    assert "az_count" in _documented_keys()


def _layout_block() -> str:
    text = (ROOT / "README.md").read_text()
    return re.search(r"## Layout\n.*?```\n(.*?)```", text, flags=re.S).group(1)


def test_the_layout_section_names_every_package_of_infra():
    named = set(re.findall(r"^(infra/[\w/]+/)", _layout_block(), flags=re.M))
    packages = {f"{path.parent.relative_to(ROOT)}/" for path in (ROOT / "infra").glob("*/__init__.py")}
    assert packages - named == set(), "add these to the README's Layout section"
    assert named - packages == set(), "the README's Layout section names packages that are gone"


def test_every_file_the_layout_section_names_exists():
    block = _layout_block()
    for folder, rest in re.findall(r"^(infra/[\w/]+/)\s+(.*(?:\n {20,}.*)*)", block, flags=re.M):
        for name in re.findall(r"\b([\w]+\.py)\b", rest):
            assert list((ROOT / folder).rglob(name)), f"{folder}{name} named in the README is not in the tree"
    for subfolder in re.findall(r"\b(sagemaker|eks|network|observability|security|storage)/", block):
        assert (ROOT / "infra" / "components" / subfolder).is_dir()
