"""The `modelfleet` command as a person runs it."""

from __future__ import annotations

import json
import subprocess
import sys

from infra.cli import EXIT_INVALID_CONFIG, main
from tests.conftest import ROOT

THREE_MISTAKES = """\
config:
  aws:region: eu-west-1
  modelfleet:tier: prod
  modelfleet:owner: ml-platform
  modelfleet:cost_center: CC-1
  modelfleet:network:
    cidr: 10.30.0.0/33
    az_count: 9
    nat_stratgy: per_az
"""


def test_plan_prints_the_tree_and_writes_json(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "plan.json"
    assert main(["plan", "--stack", "prod", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "platform-network-vpc" in printed
    assert "aws:ec2/natGateway:NatGateway" in printed
    data = json.loads(out.read_text())
    assert sum(r["type"] == "aws:ec2/natGateway:NatGateway" for r in data["resources"]) == 3


def test_three_mistakes_are_listed_together_without_a_traceback(tmp_path):
    stack_file = tmp_path / "Pulumi.broken.yaml"
    stack_file.write_text(THREE_MISTAKES)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "infra.cli",
            "plan",
            "--stack",
            "broken",
            "--stack-file",
            str(stack_file),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == EXIT_INVALID_CONFIG
    assert "Traceback" not in run.stderr + run.stdout
    assert "has 3 configuration problems" in run.stderr
    assert "modelfleet:network.cidr: is not a valid IPv4 CIDR block (got '10.30.0.0/33')" in run.stderr
    assert "modelfleet:network.az_count: must be between 2 and 6 (got 9)" in run.stderr
    assert "modelfleet:network.nat_stratgy: unknown key (did you mean 'nat_strategy'?)" in run.stderr


def test_validate_all_checks_every_shipped_stack(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["validate", "--all"]) == 0
    printed = capsys.readouterr().out
    assert all(f"Pulumi.{s}.yaml" in printed for s in ("dev", "staging", "prod"))


def test_an_unknown_stack_is_an_invalid_config_exit(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["plan", "--stack", "qa"]) == EXIT_INVALID_CONFIG
    assert "Pulumi.qa.yaml: no such file" in capsys.readouterr().err


def test_export_writes_a_terraform_plan_and_manifests_for_a_stack(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["export", "--stack", "dev", "--out-dir", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dev.k8s.yaml", "dev.tfplan.json"]
    document = json.loads((tmp_path / "dev.tfplan.json").read_text())
    assert {"aws_vpc", "aws_eks_cluster"} <= {
        r["type"] for r in document["planned_values"]["root_module"]["resources"]
    }
    assert "dev: " in capsys.readouterr().out


def test_export_of_an_unknown_stack_is_an_invalid_config_exit(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["export", "--stack", "qa", "--out-dir", str(tmp_path)]) == EXIT_INVALID_CONFIG
    assert "Pulumi.qa.yaml: no such file" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
