"""Each class of bad self-service input, enumerated, so none can come back one case at a time.

Every VPC prefix from /8 to /28 on every tier either makes a valid stack or is
refused in one line that says why; every flag rule of ``new-model`` is broken
alone and then all together, and each must be named in the one error.
"""

from __future__ import annotations

from ipaddress import IPv4Network
from types import SimpleNamespace

import pytest

from infra.cli.commands import main
from infra.selfservice import new_env, new_model
from infra.specs.subnets import AWS_LARGEST_VPC_PREFIX, SMALLEST_VPC_PREFIX
from infra.stackfiles.edit import StackDocument
from infra.stackfiles.read import read_project
from tests.selfservice.conftest import snapshot

DIGEST = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/serving@sha256:" + "a" * 64
TIERS = ("dev", "staging", "prod")


@pytest.fixture
def no_plan(monkeypatch):
    """new-env up to its settings check: the offline plan (seconds per prefix) is stubbed out."""
    monkeypatch.setattr(new_env, "preview", lambda *args, **kwargs: SimpleNamespace())
    monkeypatch.setattr(new_env, "show", lambda *args, **kwargs: None)


def _vpc(prefix: int) -> str:
    """A block of that size clear of the shipped stacks' 10.10-10.30 (10/8 itself for /8 and /9)."""
    return str(IPv4Network((0x0A400000 if prefix >= 10 else 0x0A000000, prefix)))


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("prefix", range(8, 29))
def test_new_env_with_any_cidr_works_or_says_why_in_one_line(project, capsys, no_plan, prefix, tier):
    untouched = snapshot(project)
    code = main(["new-env", "--name", "qa", "--tier", tier, "--cidr", _vpc(prefix)])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if AWS_LARGEST_VPC_PREFIX <= prefix <= SMALLEST_VPC_PREFIX:
        assert code == 0, err
        document = StackDocument.load(read_project(project), "qa")
        network = document.validate(document.original).network  # the subnets fit the VPC
        assert str(network.cidr) == _vpc(prefix) and len(network.private_subnet_cidrs) >= 2
    else:
        assert code == 2
        assert len(err.strip().splitlines()) == 1, err
        assert f"--cidr {_vpc(prefix)}: a /{prefix} is" in err and "; " in err  # the reason, then a way out
        assert snapshot(project) == untouched


@pytest.mark.parametrize(
    ("cidr", "reason"),
    [
        ("8.8.0.0/16", "must be inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16: peering"),
        ("172.16.0.0/12", "use a /16 inside it; 172.16.0.0/16 is free"),
        ("10.20.128.0/17", "overlaps staging 10.20.0.0/16"),
        ("10.0.0.1/16", "not an IPv4 CIDR block"),
    ],
)
def test_new_env_refuses_other_cidrs_in_one_line(project, capsys, cidr, reason):
    untouched = snapshot(project)
    assert main(["new-env", "--name", "qa", "--tier", "dev", "--cidr", cidr]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and reason in err, err
    assert snapshot(project) == untouched


def test_the_smallest_vpc_is_planned_for_real_with_subnets_that_fit(project, capsys):
    assert main(["new-env", "--name", "qa", "--tier", "prod", "--cidr", "10.64.0.0/24", "--dry-run"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "subnets sized to fit 10.64.0.0/24: private /26, public /28" in out
    assert "0 mandatory" in out and "dry run: nothing written" in out


VALID = ["new-model", "--stack", "dev", "--name", "ok-model", "--team", "growth", "--artifact",
         "s3://bucket-1/m/model.tar.gz", "--p99-ms", "100", "--peak-rps", "5", "--dry-run"]  # fmt: skip
# For each rule, flags that break it alone: (backend flags, the offending flags).
BREAKS = {
    ("pool", "applies to --backend eks only"): ["--backend", "sagemaker", "--framework", "xgboost:1.7-1",
                                                 "--pool", "g5"],
    ("gpus", "applies to --backend eks only"): ["--backend", "sagemaker", "--framework", "xgboost:1.7-1",
                                                 "--gpus", "2"],
    ("instance_type", "applies to --backend sagemaker only"): ["--backend", "eks", "--image", DIGEST,
                                                               "--instance-type", "ml.m5.large"],
    ("framework", "backend eks serves an image by digest"): ["--backend", "eks", "--framework",
                                                             "xgboost:1.7-1"],
    ("framework", "pass --image or --framework, not both"): ["--backend", "sagemaker", "--image", DIGEST,
                                                             "--framework", "xgboost:1.7-1"],
    ("framework", "takes a Deep Learning Container as <name>:<version>"): [
        "--backend", "sagemaker", "--framework", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/x:v1"],
    ("py_version", "applies to --framework only"): ["--backend", "sagemaker", "--image", DIGEST,
                                                    "--py-version", "py311"],
}  # fmt: skip


def test_every_flag_rule_has_a_case_and_every_flag_is_classified():
    cases = [(rule.key, text) for rule in new_model.FLAG_RULES for key, text in BREAKS
             if rule.key == key and rule.reason.startswith(text)]  # fmt: skip
    assert sorted(cases) == sorted(BREAKS)  # one case per rule, each rule tested
    ruled = {rule.key for rule in new_model.FLAG_RULES}
    assert set(new_model.KEYS) == ruled | new_model.UNCONDITIONAL  # a new flag must be classified
    assert not ruled & new_model.UNCONDITIONAL


@pytest.mark.parametrize(("rule", "flags"), list(BREAKS.items()), ids=[f"{k}: {t}" for k, t in BREAKS])
def test_each_flag_rule_is_enforced_alone(project, capsys, rule, flags):
    untouched = snapshot(project)
    assert main([*VALID, *flags]) == 2
    err = " ".join(capsys.readouterr().err.split())
    key, text = rule
    assert f"--{key.replace('_', '-')}: {text}" in err
    assert snapshot(project) == untouched


def test_missing_conflicting_and_malformed_flags_come_in_one_error(project, capsys):
    untouched = snapshot(project)
    argv = ["new-model", "--name", "x-model", "--backend", "eks", "--instance-type", "ml.m5.large",
            "--framework", "xgboost:1.7-1", "--pool", "g5", "--p99-ms", "soon", "--gpus", "0"]  # fmt: skip
    assert main(argv) == 2
    err = " ".join(capsys.readouterr().err.split())
    for expected in (
        "missing --stack, --team, --artifact, --peak-rps",
        "--instance-type: applies to --backend sagemaker only",
        "--framework: backend eks serves an image by digest",
        "--p99-ms: expected a number (got 'soon')",
        "--gpus: must be above 0 (got 0)",
    ):
        assert expected in err, err
    assert "Traceback" not in err and err.count("✗") == 1
    assert snapshot(project) == untouched


SETTINGS_REFUSALS = [
    (["--backend", "sagemaker", "--image", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/serving:v1"],
     "modelfleet:models[4].image: is pinned by tag ':v1', which can move; pin it by digest, "
     "123456789012.dkr.ecr.eu-west-1.amazonaws.com/serving@sha256:<64 hex>"),
    (["--backend", "sagemaker", "--framework", "xgboost:1.7-1", "--name", "n" * 70],
     "modelfleet:models[4].name: must be at most 32 characters (got 70)"),
    (["--backend", "sagemaker", "--framework", "xgboost:1.7-1", "--p99-ms", "1"],
     "--p99-ms 1: no instance type can meet it; the round trip to the model server alone takes 2 ms"),
    (["--backend", "sagemaker", "--framework", "xgboost:1.7-1", "--instance-type", "ml.m6i.32xlarge",
      "--p99-ms", "2"], "above the 1,000,000 the catalog allows"),
]  # fmt: skip


@pytest.mark.parametrize(("flags", "message"), SETTINGS_REFUSALS, ids=["tag", "long name", "p99", "target"])
def test_values_no_deploy_could_honour_are_refused_with_the_reason(project, capsys, flags, message):
    untouched = snapshot(project)
    assert main([*VALID, *flags]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert message in err and "framework.name" not in err and "Traceback" not in err, err
    assert snapshot(project) == untouched


def test_new_env_and_new_model_run_in_a_region_without_a_price_table(project, capsys):
    region = "ap-southeast-7"  # no price table, and no Deep Learning Containers in the SDK either
    assert main(["new-env", "--name", "th", "--tier", "dev", "--region", region]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert f"monthly estimate unknown for region {region}" in out and "monthly cost after: unknown" in out
    model = ["new-model", "--stack", "th", "--name", "ok-model", "--team", "growth", "--backend", "sagemaker",
             "--image", DIGEST, "--artifact", "s3://bucket-1/m/model.tar.gz", "--p99-ms", "100",
             "--peak-rps", "5", "--dry-run"]  # fmt: skip
    assert main(model) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert f"monthly estimate unknown for region {region}" in out and "dry run: nothing written" in out
    assert "$0 → $0" not in out
