"""new-model and new-env as people run them: from template answers, flags or prompts, checked first."""

from __future__ import annotations

import io
import json
import sys

import pytest

from infra.cli.commands import main
from infra.stackfiles.edit import StackDocument
from infra.stackfiles.read import read_project
from tests.conftest import ROOT
from tests.selfservice.conftest import pulumi_new_yes, snapshot

DIGEST = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/serving@sha256:" + "a" * 64


def _settings(root, stack):
    document = StackDocument.load(read_project(root), stack)
    return document.validate(document.original)


def test_environment_template_then_a_model_by_flags_make_a_stack_that_plans_and_passes(project, capsys):
    answers = pulumi_new_yes("environment", project / "answers-env", stack="seed")
    assert main(["new-env", "--answers", str(answers)]) == 0  # exit 3 if a mandatory policy failed
    settings = _settings(project, "qa")
    assert (settings.tier.value, str(settings.network.cidr)) == ("staging", "10.40.0.0/16")  # first free
    assert (project / "policies/config/qa.json").read_text() == (
        ROOT / "policies/config/staging.json"
    ).read_text()
    assert "✓ policy pack: 0 mandatory" in capsys.readouterr().out

    flags = ["--stack", "qa", "--name", "churn", "--team", "growth", "--backend", "sagemaker",
             "--framework", "sklearn:1.2-1", "--artifact", "s3://acme-ml-artifacts-qa/churn/v1/model.tar.gz",
             "--instance-type", "ml.m5.large", "--p99-ms", "200", "--peak-rps", "20"]  # fmt: skip
    assert main(["new-model", *flags]) == 0
    text = (project / "stacks/Pulumi.qa.yaml").read_text()
    assert text.startswith("# qa: a staging-tier environment, added with `modelfleet new-env`.")
    (model,) = _settings(project, "qa").models
    scaling = model.autoscaling
    # ml.m5.large: 2 vCPUs x 1000/200 ms = 10 req/s; floor(10 x 60 x 0.5) = 300/min; 20 req/s needs 4
    assert (
        scaling.min_instances,
        scaling.max_instances,
        scaling.target_invocations_per_instance_per_minute,
    ) == (1, 4, 300)
    output = capsys.readouterr().out
    assert "autoscaling 1-4 instances" in output and "platform-churn-endpoint" in output


def test_model_service_template_adds_a_model_and_every_comment_survives(project, capsys):
    before = (project / "stacks/Pulumi.dev.yaml").read_text().splitlines()
    answers = pulumi_new_yes("model-service", project / "answers-model")
    assert main(["new-model", "--answers", str(answers)]) == 0
    after = (project / "stacks/Pulumi.dev.yaml").read_text().splitlines()
    position = iter(after)
    assert all(line in position for line in before)  # every line, comments included, kept in order
    added = [line for line in after if line not in before]
    assert added[0] == "    - name: example-model"
    assert any("# sized for 10 req/s at peak within p99 200 ms" in line for line in added)
    example = next(m for m in _settings(project, "dev").models if m.name == "example-model")
    assert (example.framework.name, example.team, example.instance_type) == (
        "xgboost",
        "my-team",
        "ml.m5.large",
    )
    output = capsys.readouterr().out
    assert "0 mandatory" in output
    assert "Models (1)" in output and "model example-model (added)" in output


def test_new_env_asks_on_a_terminal_and_a_dry_run_writes_nothing(project, capsys, monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    # name, tier, then Enter for the owner and cost center taken from the prod stack
    monkeypatch.setattr(sys, "stdin", Terminal("perf\nprod\n\n\n"))
    untouched = snapshot(project)
    assert main(["new-env", "--region", "eu-west-1", "--cidr", "10.50.0.0/16", "--dry-run"]) == 0
    output = capsys.readouterr().out
    assert "Environment (stack) name" in output and "Owner" in output and "(ml-platform)" in output
    assert "perf: prod tier in eu-west-1, VPC 10.50.0.0/16" in output and "dry run: nothing written" in output
    assert "platform-network-vpc" in output and "0 mandatory" in output  # planned and judged as prod
    assert snapshot(project) == untouched


MODEL = ["--stack", "dev", "--team", "growth", "--backend", "sagemaker", "--framework", "xgboost:1.7-1",
         "--artifact", "s3://bucket-1/m/model.tar.gz", "--instance-type", "ml.m5.large", "--p99-ms", "100",
         "--peak-rps", "5"]  # fmt: skip
BAD = [
    (["new-model", "--stack", "dev"], 2, ["missing --name, --team, --artifact, --p99-ms, --peak-rps"]),
    (
        [
            "new-model",
            *MODEL,
            "--name",
            "Bad_Name",
            "--artifact",
            "s3:/x",
            "--instance-type",
            "ml.m5.huge",
            "--framework",
            "xgboost",
        ],
        2,
        [
            "has 4 configuration problems",
            "models[4].name: must be 3-32 lowercase letters",  # dev has four models
            "framework.version: is required",
            "instance_type: 'ml.m5.huge' is not a size of ml.m5",
            "model_data: must be an S3 URI",
        ],
    ),
    (
        ["new-model", *MODEL, "--name", "fraud-scorer"],
        2,
        ["stack 'dev' already has a model named 'fraud-scorer'"],
    ),
    (
        ["new-model", *MODEL, "--name", "x-model", "--stack", "nope"],
        2,
        ["unknown stack 'nope' (stacks: dev, prod, staging)"],
    ),
    (["new-model", *MODEL, "--name", "x-model", "--p99-ms", "-5"], 2, ["--p99-ms: must be above 0 (got -5)"]),
    (
        ["new-model", *MODEL, "--name", "gpu-model", "--team", "risk", "--instance-type", "ml.g5.xlarge"],
        3,
        [
            "team risk would scale to 1 GPUs (0 today + 1 for gpu-model at max scale); its quota is 0 "
            "(policies/config/dev.json: team-gpu-quota.quotas.risk)"
        ],
    ),
    (
        [
            "new-model",
            "--stack",
            "dev",
            "--name",
            "embedder",
            "--team",
            "risk",
            "--backend",
            "eks",
            "--image",
            DIGEST,
            "--artifact",
            "s3://bucket-1/m/model.tar.gz",
            "--p99-ms",
            "300",
            "--peak-rps",
            "2",
        ],
        3,
        # GPUs on a pool count as the pack counts them, at most at the pool's ceiling (2 here).
        ["team risk would scale to 2 GPUs (0 today + 2 for embedder at max scale); its quota is 0"],
    ),
    (
        ["new-env", "--name", "qa", "--tier", "staging", "--cidr", "10.20.128.0/17"],
        2,
        ["--cidr 10.20.128.0/17 overlaps staging 10.20.0.0/16; 10.40.0.0/17 is free"],
    ),
    (["new-env", "--name", "staging", "--tier", "staging"], 2, ["stack 'staging' already exists"]),
    (["new-env", "--name", "Q", "--tier", "dev"], 2, ["--name: must be 2-20 lowercase letters"]),
    (
        ["new-env", "--tier", "dev", "--answers", "missing.yaml"],
        2,
        ["--answers missing.yaml: cannot read it"],
    ),
]


@pytest.mark.parametrize(
    ("argv", "code", "messages"), BAD, ids=[f"{a[0]}-{i}" for i, (a, _, _) in enumerate(BAD)]
)
def test_bad_input_is_refused_with_every_problem_and_touches_nothing(project, capsys, argv, code, messages):
    untouched = snapshot(project)
    assert main(argv) == code
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    shown = " ".join(captured.err.split())  # rich wraps long lines
    assert all(" ".join(message.split()) in shown for message in messages), captured.err
    assert snapshot(project) == untouched


def test_the_policy_config_of_a_new_env_is_valid_json_with_quotas(project):
    # new-env copies the same-tier config; its quotas are what a platform team edits to onboard teams
    assert {"team-gpu-quota", "team-instance-quota"} <= set(
        json.loads((project / "policies/config/dev.json").read_text())
    )
