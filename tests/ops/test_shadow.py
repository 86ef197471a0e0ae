"""Shadow tests: the report against moto's CloudWatch, and ``promote --from-shadow``'s stack-file edit.

moto stores datapoints but computes no percentiles (GetMetricData with p99 fails on
data it holds), so no ModelLatency is put here: p99 comes through the report's seam,
``shadow_cli.P99_SOURCE``, as CloudWatch's percentile would. Invocations and 5XX
counts are real datapoints read through GetMetricData.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.cli.commands import main
from infra.ops import shadow, shadow_cli
from infra.ops.gates import VariantMetrics
from infra.ops.target import load_project, resolve
from infra.settings.catalog import RolloutSettings, SloSettings
from infra.stackfiles.edit import StackDocument
from tests.ops.conftest import REGION, FakeClock, put_invocations

MODEL = ["--stack", "prod", "--model", "support-summarizer"]
SLO = SloSettings(p99_latency_ms=2500, error_rate_percent=1)
ROLLOUT = RolloutSettings(min_invocations=100)  # p99 within 20 %, 5XX within 0.5 points


def metrics(invocations: float = 1000, errors: float = 0, p99: float | None = 1000) -> VariantMetrics:
    return VariantMetrics(invocations, errors, p99)


@pytest.mark.parametrize(
    ("copy", "reason"),
    [
        (metrics(p99=1100), None),
        (metrics(p99=2600), "above the SLO's 2500 ms (slo.p99_latency_ms)"),
        (metrics(p99=1300), "by more than 20 % (rollout.max_p99_latency_increase_percent)"),
        (metrics(errors=20), "above the SLO's 1.0 % (slo.error_rate_percent)"),
        (metrics(errors=9), "by more than 0.5 points (rollout.max_error_rate_increase_points)"),
        (metrics(invocations=99), "not enough shadow traffic to judge: 99 of 100"),
        (metrics(p99=None), "no p99 ModelLatency datapoint for the shadow"),
    ],
    ids=[
        "passes",
        "p99-over-slo",
        "p99-over-production",
        "5xx-over-slo",
        "5xx-over-production",
        "quiet",
        "no-p99",
    ],
)
def test_the_shadow_is_judged_against_the_slo_and_production(copy, reason):
    found = shadow.judge(metrics(errors=1), copy, SLO, ROLLOUT, 60)
    assert found.passed is (reason is None)
    if reason:
        assert any(reason in r for r in found.reasons), found.reasons


def test_without_a_production_p99_the_shadow_is_judged_by_the_slo_alone():
    found = shadow.judge(metrics(p99=None), metrics(p99=2000), SLO, ROLLOUT, 60)
    assert found.passed and found.notes == [
        "p99 not compared with production: no datapoint for it in the window"
    ]


@pytest.fixture
def aws(monkeypatch, project_copy) -> Iterator[dict[str, Any]]:
    """moto, the project copy as the working folder, a fake clock and a p99 for each variant."""
    monkeypatch.chdir(project_copy)
    clock = FakeClock()
    latencies = {"stable": 1800.0, "shadow": 1900.0}
    monkeypatch.setattr(shadow_cli, "CLOCK", clock)
    monkeypatch.setattr(shadow_cli, "P99_SOURCE", latencies.get)
    with mock_aws():
        yield {"cloudwatch": boto3.client("cloudwatch", region_name=REGION), "clock": clock, "p99": latencies}


def traffic(aws, project_copy, shadow_errors: float = 0) -> None:
    """Forty minutes of both variants up to the fake clock's now: stable's 500 a minute, the shadow half."""
    target = resolve(load_project(project_copy), "prod", "support-summarizer")
    start = aws["clock"].now() - 40 * 60
    put_invocations(aws["cloudwatch"], target, "stable", 500, 1, minutes=range(40), start=start)
    put_invocations(aws["cloudwatch"], target, "shadow", 250, shadow_errors, minutes=range(40), start=start)


def test_the_report_passes_a_shadow_within_the_slo_and_close_to_production(aws, project_copy, capsys):
    traffic(aws, project_copy)
    assert main(["shadow", "report", *MODEL, "--window-minutes", "30"]) == 0
    out = capsys.readouterr().out
    assert "shadow" in out and "7500 invocations" in out and "p99 1900.0 ms" in out and "PASS" in out


def test_the_report_fails_a_shadow_with_more_errors_than_production(aws, project_copy, capsys):
    traffic(aws, project_copy, shadow_errors=5)  # 2 % against stable's 0.2 %
    assert main(["shadow", "report", *MODEL]) == 1
    captured = capsys.readouterr()
    assert "above the SLO's 1.0 % (slo.error_rate_percent)" in captured.out and "FAIL" in captured.out
    assert "the shadow does not pass" in captured.err


def test_the_report_fails_a_shadow_slower_than_the_slo(aws, project_copy, capsys):
    traffic(aws, project_copy)
    aws["p99"]["shadow"] = 2600.0
    assert main(["shadow", "report", *MODEL]) == 1
    assert "above the SLO's 2500 ms" in capsys.readouterr().out


def test_a_model_without_a_shadow_is_refused_by_name(aws, capsys):
    assert main(["shadow", "report", "--stack", "prod", "--model", "fraud-scorer"]) == 2
    assert "model 'fraud-scorer' has no variants.shadow" in capsys.readouterr().err


def variants(root) -> dict[str, Any]:
    document = StackDocument.load(load_project(root), "prod")
    index = document.index_of("modelfleet:models", "support-summarizer")
    return dict(document.get(("modelfleet:models", index, "variants")))


def test_promote_from_shadow_makes_the_passing_shadow_the_canary_at_weight_zero(aws, project_copy, capsys):
    traffic(aws, project_copy)
    shadow_before = dict(variants(project_copy)["shadow"])
    assert main(["promote", *MODEL, "--from-shadow"]) == 0
    after = variants(project_copy)
    assert "shadow" not in after
    assert dict(after["canary"]) == {**shadow_before, "weight": 0}
    text = (project_copy / "stacks" / "Pulumi.prod.yaml").read_text()
    assert (
        "        canary: {model_data: s3://acme-ml-artifacts-prod/support-summarizer/v8/model.tar.gz" in text
    )
    out = capsys.readouterr().out
    assert "-        shadow: {" in out and "+        canary: {" in out
    assert (
        "pulumi up --stack prod" in out
        and "modelfleet rollout --stack prod --model support-summarizer" in out
    )
    settings = resolve(load_project(project_copy), "prod", "support-summarizer").model
    assert settings.variants.canary.weight == 0 and settings.variants.shadow is None


def test_promote_from_shadow_refuses_a_failing_shadow_and_writes_nothing(aws, project_copy, capsys):
    traffic(aws, project_copy, shadow_errors=5)
    stack_file = project_copy / "stacks" / "Pulumi.prod.yaml"
    before = stack_file.read_text()
    assert main(["promote", *MODEL, "--from-shadow"]) == 1
    assert "the shadow does not pass its report over the last 60 minutes" in capsys.readouterr().err
    assert stack_file.read_text() == before


def test_promote_from_shadow_dry_run_prints_the_edit_and_writes_nothing(aws, project_copy, capsys):
    traffic(aws, project_copy)
    stack_file = project_copy / "stacks" / "Pulumi.prod.yaml"
    before = stack_file.read_text()
    assert main(["promote", *MODEL, "--from-shadow", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "+        canary: {" in out and "dry run: nothing written" in out
    assert stack_file.read_text() == before


def test_a_forced_promotion_skips_the_report_and_says_why_in_the_commit_it_suggests(
    aws, project_copy, capsys
):
    # No traffic at all: the report would fail, but --force does not read it.
    assert (
        main(["promote", *MODEL, "--from-shadow", "--force", "--reason", "INC-7 load test done offline"]) == 0
    )
    out = capsys.readouterr().out
    assert "forced, the shadow's report is not checked: INC-7 load test done offline" in out
    assert "git commit -m" in out and "forced: INC-7 load test done offline" in out
    assert "canary" in variants(project_copy)


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["promote", *MODEL, "--window-minutes", "30"], "--window-minutes goes with --from-shadow"),
        (["shadow", "report", *MODEL, "--window-minutes", "2"], "--window-minutes must be 5 to 20160"),
    ],
)
def test_window_flags_are_refused_where_they_mean_nothing(argv, error, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2 and error in capsys.readouterr().err
