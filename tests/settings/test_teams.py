"""Teams' IAM roles (modelfleet:teams): names fit a model package group, roles are role ARNs."""

from __future__ import annotations

import pytest

from infra.settings.platform import SettingsError, load_settings
from tests.conftest import valid_config


def problems(teams) -> dict[str, str]:
    with pytest.raises(SettingsError) as caught:
        load_settings("prod", valid_config() | {"modelfleet:teams": teams})
    return {p.path: p.message for p in caught.value.problems}


def test_a_team_lists_its_roles():
    settings = load_settings(
        "prod",
        valid_config()
        | {"modelfleet:teams": {"risk": {"role_arns": ["arn:aws:iam::123456789012:role/risk"]}}},
    )
    assert settings.teams["risk"].role_arns == ["arn:aws:iam::123456789012:role/risk"]


def test_bad_team_names_and_roles_name_their_key():
    found = problems(
        {"Risk Team": {"role_arns": ["arn:aws:iam::123456789012:user/alice"]}, "ok": {"role_arns": []}}
    )
    assert any("team names are 1-40 lowercase" in m for m in found.values()), found
    assert any(k.endswith("role_arns[0]") and "must be an IAM role ARN" in m for k, m in found.items()), found
    assert any(k == "modelfleet:teams.ok.role_arns" for k in found), found
