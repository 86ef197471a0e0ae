"""The README's configuration section must name every setting the code accepts."""

from typing import get_args

from pydantic import BaseModel

from infra.settings import PlatformSettings
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


def test_every_setting_is_documented():
    readme = (ROOT / "README.md").read_text()
    missing = sorted(key for key in _keys(PlatformSettings) if f"{key}:" not in readme)
    assert missing == []
