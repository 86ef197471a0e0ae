"""The pack over real offline plans: shipped stacks pass, policy config is checked, the CLI gates."""

from __future__ import annotations

import json

import pytest

from infra.cli.commands import EXIT_INVALID_CONFIG, EXIT_POLICY_VIOLATION, main
from infra.plan.policy import PolicyConfigError, check_plan, config_path, load_settings
from tests.conftest import ROOT, SHIPPED_STACKS


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_shipped_stacks_pass_every_mandatory_policy(shipped_plans, stack):
    report = check_plan(shipped_plans[stack], load_settings(config_path(ROOT, stack)))
    assert report.mandatory == [], [v.message for v in report.mandatory]


def test_prod_without_its_config_breaks_the_team_quotas(shipped_plans):
    """Quotas default to zero GPUs and 20 instances, so a team only gets what its environment grants."""
    report = check_plan(shipped_plans["prod"], load_settings(None))
    assert {v.policy for v in report.mandatory} == {"team-gpu-quota", "team-instance-quota"}
    # doc-embedder's two variants could scale to 20 GPUs; its g5 pool holds 12 (max_size 12 x 1 GPU).
    assert any("team search can scale to 12 GPUs" in v.message for v in report.mandatory)
    # fraud-scorer's 12 instances per variant, and fraud-graph's 4 replicas per variant on EKS
    assert any("team risk can scale to 32 instances" in v.message for v in report.mandatory)
    assert any("team risk can scale to 8 GPUs" in v.message for v in report.mandatory)


def test_dev_relaxes_prod_only_rules_through_its_config(shipped_plans):
    strict = check_plan(shipped_plans["dev"], load_settings(config_path(ROOT, "prod")))
    assert {"sagemaker-variant-min-instances", "deletion-protection"} <= {v.policy for v in strict.mandatory}


def test_a_policy_config_with_mistakes_lists_every_one(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(
        json.dumps(
            {
                "no-such-rule": "mandatory",
                "imdsv2-required": "sometimes",
                "team-gpu-quota": {"quotas": {"a": -1}},
            }
        )
    )
    with pytest.raises(PolicyConfigError) as raised:
        load_settings(path)
    text = str(raised.value)
    assert "3 problem(s)" in text
    assert "no-such-rule: no such policy" in text
    assert "imdsv2-required.enforcementLevel" in text
    assert "team-gpu-quota.quotas.a" in text


def test_all_sets_the_level_of_rules_the_file_does_not_name(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"all": "advisory", "log-group-kms": "mandatory"}))
    settings = load_settings(path)
    assert settings.levels["log-group-kms"].value == "mandatory"
    assert settings.levels["s3-versioning"].value == "advisory"


def test_plan_exits_3_on_a_mandatory_violation_and_2_on_a_bad_policy_config(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    strict = tmp_path / "strict.json"
    strict.write_text(json.dumps({"team-gpu-quota": {"quotas": {}}}))
    assert (
        main(["plan", "--stack", "dev", "--summary", "--policy-config", str(strict)]) == EXIT_POLICY_VIOLATION
    )
    assert "team-gpu-quota" in capsys.readouterr().out
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert (
        main(["plan", "--stack", "dev", "--summary", "--policy-config", str(broken)]) == EXIT_INVALID_CONFIG
    )
    capsys.readouterr()
    missing = tmp_path / "no-such.json"  # named by the user: never silently the pack's defaults
    assert (
        main(["plan", "--stack", "dev", "--summary", "--policy-config", str(missing)]) == EXIT_INVALID_CONFIG
    )
    assert "no such policy config file" in capsys.readouterr().err


def test_the_pack_runs_in_the_project_virtualenv_and_assembles_every_rule():
    from ruamel.yaml import YAML

    from policies.rules import ALL

    pack = YAML(typ="safe").load((ROOT / "policies" / "PulumiPolicy.yaml").read_text())
    assert pack["runtime"]["name"] == "python"
    assert (ROOT / "policies" / pack["runtime"]["options"]["virtualenv"]).resolve() == (
        ROOT / ".venv"
    ).resolve()
    main_source = (ROOT / "policies" / "__main__.py").read_text()
    assert "PolicyPack(" in main_source and "policies=ALL" in main_source
    assert len({rule.name for rule in ALL}) == len(ALL)  # names are unique, as the CLI requires
