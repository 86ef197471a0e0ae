"""The README's configuration section must name every setting the code accepts."""

from pydantic import BaseModel

from infra.settings import PlatformSettings
from tests.conftest import ROOT


def _keys(model: type[BaseModel]) -> set[str]:
    found = set()
    for name, field in model.model_fields.items():
        found.add(field.alias or name)
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found |= _keys(annotation)
    return found - {"environment"}


def test_every_setting_is_documented():
    readme = (ROOT / "README.md").read_text()
    missing = sorted(key for key in _keys(PlatformSettings) if f"{key}:" not in readme)
    assert missing == []
