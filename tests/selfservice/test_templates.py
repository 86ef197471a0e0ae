"""The `pulumi new` templates: valid template manifests whose answers the commands take."""

from __future__ import annotations

import pytest

from infra.selfservice import new_env, new_model
from tests.selfservice.conftest import TEMPLATES, template

COMMAND_KEYS = {"model-service": ("model", new_model.KEYS), "environment": ("env", new_env.KEYS)}


@pytest.mark.parametrize("name", sorted(COMMAND_KEYS))
def test_a_template_is_a_project_with_a_described_default_for_every_prompt(name):
    manifest = template(name)
    assert manifest["name"] == "${PROJECT}" and manifest["description"] == "${DESCRIPTION}"
    assert manifest["runtime"] == "yaml"  # nothing to install: the folder only carries the answers
    assert manifest["template"]["description"] and manifest["template"]["quickstart"]
    for key, spec in manifest["template"]["config"].items():
        assert set(spec) == {"description", "default"}, key
        assert isinstance(spec["default"], str) and spec["default"].strip(), f"{key}: `--yes` needs a default"
        assert spec["description"][0].isupper(), key


@pytest.mark.parametrize("name", sorted(COMMAND_KEYS))
def test_every_template_answer_is_a_command_flag(name):
    namespace, keys = COMMAND_KEYS[name]
    answered = {key.split(":")[1] for key in template(name)["template"]["config"]}
    assert all(key.startswith(f"{namespace}:") for key in template(name)["template"]["config"])
    assert answered <= set(keys)


def test_templates_live_beside_the_stacks_but_are_not_stacks():
    assert sorted(p.name for p in TEMPLATES.iterdir()) == ["environment", "model-service"]
