"""The day-2 commands end to end against a moto server on 127.0.0.1, over real HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest

from infra.cli.commands import main
from infra.ops.target import load_project, resolve
from infra.specs import naming
from tests.conftest import ROOT
from tests.ops.conftest import REGION, create_alarms, deploy, edit_stack, put_invocations

FAST = {"rollout.bake_seconds": 0, "rollout.poll_seconds": 1, "rollout.in_service_timeout_seconds": 10}
ANSWER = {
    "Body": '{"predictions": [0.2]}',
    "ContentType": "application/json",
    "InvokedProductionVariant": "canary",
}


MINUTES = range(-2, 10)  # traffic in every minute a bake of this module can read


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/moto-api/", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.05)
    else:
        process.kill()
        pytest.fail("moto_server did not start")
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def env(moto_server, monkeypatch, project_copy):
    """Fresh moto state, the CLI pointed at it, run from a copy of the project with fast bakes."""
    httpx.post(f"{moto_server}/moto-api/reset").raise_for_status()
    variables = {"AWS_ENDPOINT_URL": moto_server, "AWS_ACCESS_KEY_ID": "testing",
                 "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION}  # fmt: skip
    for key, value in variables.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(project_copy)
    edit_stack(project_copy, "dev", "fraud-scorer", FAST)
    target = resolve(load_project(project_copy), "dev", "fraud-scorer")
    clients = {
        s: boto3.client(s, region_name=REGION, endpoint_url=moto_server)
        for s in ("sagemaker", "cloudwatch", "logs")
    }
    deploy(clients["sagemaker"], target)
    create_alarms(clients["cloudwatch"], target)
    clients["logs"].create_log_group(logGroupName=naming.rollout_history_log_group("dev"))  # the stack's
    httpx.post(f"{moto_server}/moto-api/static/sagemaker/endpoint-results", json={
        "account_id": "123456789012", "region": REGION, "results": [ANSWER] * 5,
    }).raise_for_status()  # fmt: skip
    return {"target": target, "root": project_copy, "variables": variables, **clients}


def healthy_traffic(env) -> None:
    for variant, invocations in (("stable", 1000), ("canary", 100)):
        put_invocations(env["cloudwatch"], env["target"], variant, invocations, errors=0, minutes=MINUTES)


def weights(env) -> dict[str, float]:
    described = env["sagemaker"].describe_endpoint(EndpointName=env["target"].endpoint_name)
    return {v["VariantName"]: v["DesiredWeight"] for v in described["ProductionVariants"]}


def run(*argv: str) -> int:
    return main(list(argv))


MODEL = ("--stack", "dev", "--model", "fraud-scorer")


def test_rollout_then_promote_in_two_edits_as_the_operator_runs_them(env, capsys):
    stack_file = env["root"] / "stacks/Pulumi.dev.yaml"
    healthy_traffic(env)
    assert run("rollout", *MODEL, "--dry-run") == 0
    assert weights(env) == {"stable": 80, "canary": 20}
    assert run("rollout", *MODEL) == 0
    assert weights(env) == {"stable": 0, "canary": 100}
    assert run("rollout", *MODEL) == 0  # idempotent
    printed = capsys.readouterr().out
    assert "smoke test: canary answered" in printed and "nothing to do" in printed

    assert run("promote", *MODEL) == 0
    text = stack_file.read_text()
    assert (
        "stable: {model_data: s3://acme-ml-artifacts-dev/fraud-scorer/v13/model.tar.gz, instance_count: 1, weight: 100}"
        in text
    )
    assert (
        "canary: {model_data: s3://acme-ml-artifacts-dev/fraud-scorer/v13/model.tar.gz, instance_count: 1, weight: 0}"
        in text
    )
    assert "# Development: two AZs" in text
    assert "pulumi up --stack dev" in capsys.readouterr().out

    assert run("promote", *MODEL) == 1  # the first edit is not deployed yet: refused, file untouched
    assert stack_file.read_text() == text
    assert "run pulumi up first" in capsys.readouterr().err

    env["sagemaker"].update_endpoint_weights_and_capacities(  # what that pulumi up does to the split
        EndpointName=env["target"].endpoint_name,
        DesiredWeightsAndCapacities=[{"VariantName": "stable", "DesiredWeight": 100},
                                     {"VariantName": "canary", "DesiredWeight": 0}],
    )  # fmt: skip
    assert run("promote", *MODEL) == 0
    assert stack_file.read_text().count("fraud-scorer/v13") == 1  # only stable is left
    assert run("promote", *MODEL) == 2  # nothing left to promote
    assert "has no canary to promote" in capsys.readouterr().err

    assert run("history", *MODEL, "--json") == 0  # every run but the dry run and the invalid one
    found = json.loads(capsys.readouterr().out)
    assert [(r["command"], r["outcome"]) for r in found] == [
        ("rollout", "succeeded"), ("rollout", "unchanged"), ("promote", "succeeded"),
        ("promote", "refused"), ("promote", "succeeded"),
    ]  # fmt: skip


def test_a_canary_with_more_5xx_rolls_back_with_exit_1_and_abort_is_then_exit_0(env, capsys):
    put_invocations(env["cloudwatch"], env["target"], "stable", invocations=1000, errors=0, minutes=MINUTES)
    put_invocations(env["cloudwatch"], env["target"], "canary", invocations=100, errors=40, minutes=MINUTES)
    assert run("rollout", *MODEL) == 1
    assert weights(env) == {"stable": 100, "canary": 0}
    printed = capsys.readouterr()
    assert "rolling back: canary 5XX rate 40.00 %" in printed.out
    assert printed.err.strip() == "✗ the rollout was rolled back and did not complete"
    assert progress_tags(env)["phase"] == "rolled-back"
    assert run("rollout", "abort", *MODEL) == 0
    assert "already on stable" in capsys.readouterr().out


def test_a_canary_without_enough_traffic_holds_then_rolls_back_with_exit_1(env, capsys):
    edit_stack(env["root"], "dev", "fraud-scorer", {"rollout.insufficient_data_hold_seconds": 2})
    put_invocations(env["cloudwatch"], env["target"], "stable", invocations=1000, errors=0, minutes=MINUTES)
    assert run("rollout", *MODEL) == 1
    printed = capsys.readouterr().out
    assert "holding the step: up to 2 s more" in printed
    assert "rolling back: could not judge the canary in" in printed and "0 of 10 invocations" in printed
    assert weights(env) == {"stable": 100, "canary": 0} and progress_tags(env)["phase"] == "rolled-back"


def test_an_alarm_in_alarm_refuses_the_rollout_in_one_line_and_moves_nothing(env, capsys):
    alarm = env["target"].alarm_names[3]
    env["cloudwatch"].set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="t")
    assert run("rollout", *MODEL) == 1
    err = capsys.readouterr().err
    assert err.startswith("✗ refused, no traffic moved") and f"alarm {alarm} is in ALARM" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert weights(env) == {"stable": 80, "canary": 20} and progress_tags(env) == {}


def test_force_needs_a_reason_and_a_forced_rollout_prints_and_records_it(env, capsys):
    env["cloudwatch"].delete_alarms(AlarmNames=list(env["target"].alarm_names[:2]))
    healthy_traffic(env)
    with pytest.raises(SystemExit) as stopped:
        run("rollout", *MODEL, "--force")
    assert stopped.value.code == 2 and "--force needs --reason" in capsys.readouterr().err
    assert weights(env) == {"stable": 80, "canary": 20}

    reason = "CHG-311: two alarms are being renamed; watched by hand"
    assert run("rollout", *MODEL, "--force", "--reason", reason) == 0
    assert f"! forced: {reason} (not watched in this run: 2 alarm(s) not found" in capsys.readouterr().out
    assert weights(env) == {"stable": 0, "canary": 100}
    assert progress_tags(env)["forced-reason"] == "CHG-311: two alarms are being renamed watched by hand"


def test_promote_force_needs_a_reason_and_puts_it_in_the_commit_it_suggests(env, capsys):
    stack_file = env["root"] / "stacks/Pulumi.dev.yaml"
    before = stack_file.read_bytes()
    with pytest.raises(SystemExit):
        run("promote", *MODEL, "--force")
    assert "--force needs --reason" in capsys.readouterr().err and stack_file.read_bytes() == before
    assert run("promote", *MODEL, "--force", "--reason", "hotfix [v13] is live elsewhere", "--dry-run") == 0
    printed = capsys.readouterr().out
    assert "! forced, the live endpoint is not checked: hotfix [v13] is live elsewhere" in printed
    assert stack_file.read_bytes() == before
    assert run("promote", *MODEL, "--force", "--reason", "hotfix [v13] is live elsewhere") == 0
    assert "git commit -m 'Promote fraud-scorer in dev (shift), forced: hotfix [v13] is live elsewhere'" in (
        capsys.readouterr().out
    )


def test_abort_dry_run_moves_no_traffic_and_abort_then_does(env, capsys):
    assert run("rollout", "abort", *MODEL, "--dry-run") == 0
    assert weights(env) == {"stable": 80, "canary": 20}
    assert "dry run, nothing changed" in capsys.readouterr().out
    assert run("rollout", "abort", *MODEL) == 0
    assert weights(env) == {"stable": 100, "canary": 0}


def progress_tags(env) -> dict[str, str]:
    arn = env["sagemaker"].describe_endpoint(EndpointName=env["target"].endpoint_name)["EndpointArn"]
    tags = env["sagemaker"].list_tags(ResourceArn=arn)["Tags"]
    return {t["Key"].removeprefix("modelfleet:rollout:"): t["Value"] for t in tags}


def test_an_abort_from_another_shell_during_the_final_bake_fails_the_rollout(env):
    edit_stack(
        env["root"], "dev", "fraud-scorer", {"rollout.steps_percent": [100], "rollout.bake_seconds": 60}
    )
    rolling = subprocess.Popen(
        [sys.executable, "-m", "infra.cli", "rollout", *MODEL, "--skip-smoke"], cwd=env["root"],
        env={**os.environ, **env["variables"], "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while weights(env)["canary"] != 100 and rolling.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert run("rollout", "abort", *MODEL) == 0
        out, err = rolling.communicate(timeout=30)
    finally:
        rolling.kill()
    assert rolling.returncode == 1, out + err
    assert "✗ aborted" in out and "canary takes 100 % of traffic" not in out and "Traceback" not in err
    assert err.strip() == "✗ the rollout was aborted and did not complete"
    assert weights(env) == {"stable": 100, "canary": 0}
    assert progress_tags(env)["phase"] == "aborted"


def test_an_interrupted_final_bake_is_resumed_by_the_next_run(env, capsys):
    target = env["target"]
    env["sagemaker"].update_endpoint_weights_and_capacities(
        EndpointName=target.endpoint_name,
        DesiredWeightsAndCapacities=[{"VariantName": "stable", "DesiredWeight": 0},
                                     {"VariantName": "canary", "DesiredWeight": 100}],
    )  # fmt: skip
    arn = env["sagemaker"].describe_endpoint(EndpointName=target.endpoint_name)["EndpointArn"]
    interrupted = {"phase": "baking", "step": "100", "config": f"{target.endpoint_name}-config",
                   "started": "2025-03-01T09:30:00Z", "updated": "2025-03-01T09:31:00Z"}  # fmt: skip
    env["sagemaker"].add_tags(
        ResourceArn=arn, Tags=[{"Key": f"modelfleet:rollout:{k}", "Value": v} for k, v in interrupted.items()]
    )
    healthy_traffic(env)
    assert run("promote", *MODEL, "--dry-run") == 1  # not finished: nothing to promote yet
    assert "its last bake has not completed (progress: baking at 100 %" in capsys.readouterr().err
    assert run("rollout", *MODEL) == 0
    assert "bake again (resumed)" in capsys.readouterr().out
    assert (
        progress_tags(env)["phase"] == "completed" and progress_tags(env)["started"] == "2025-03-01T09:30:00Z"
    )
    assert run("rollout", *MODEL) == 0
    assert "nothing to do" in capsys.readouterr().out


def test_smoke_targets_a_variant_and_fails_on_a_bad_answer(env, capsys):
    assert run("smoke", *MODEL, "--variant", "canary") == 0
    assert "modelfleet-dev-fraud-scorer/canary: 200" in capsys.readouterr().out
    httpx.post(f"{env['variables']['AWS_ENDPOINT_URL']}/moto-api/reset").raise_for_status()
    assert run("smoke", *MODEL) == 1  # moto's default answer is not JSON
    assert "content type" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ("rollout", "--stack", "qa", "--model", "fraud-scorer"),
            "unknown stack 'qa' (stacks: dev, prod, staging)",
        ),
        (
            ("rollout", "--stack", "dev", "--model", "nope"),
            "stack 'dev' has no model 'nope' (models: fraud-scorer, ",
        ),
        (
            ("smoke", *MODEL, "--variant", "blue"),
            "model 'fraud-scorer' has no variant 'blue' (variants: stable, canary)",
        ),
        (
            ("loadtest", "--stack", "dev", "--model", "doc-embedder", "--endpoint", "x", "--dry-run"),
            "load test is not supported for eks models yet",
        ),
        (("rollout", "--stack", "dev", "--model", "churn-predictor"), "has no canary"),
        (("promote", "--stack", "dev", "--model", "churn-predictor"), "has no canary to promote"),
        (("loadtest", "--url", "http://10.0.0.8:8080", "--payload", "x", "--slo-p99-ms", "5"), "loopback"),
    ],
)
def test_bad_input_is_one_clear_error_and_changes_nothing(env, capsys, argv, message):
    before = (env["root"] / "stacks/Pulumi.dev.yaml").read_bytes()
    code = run(*argv)
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert code == (1 if "has no canary" in message and argv[0] == "rollout" else 2)
    assert weights(env) == {"stable": 80, "canary": 20}
    assert (env["root"] / "stacks/Pulumi.dev.yaml").read_bytes() == before


def test_the_installed_command_exits_2_on_a_bad_flag_without_a_traceback(env):
    result = subprocess.run(
        [sys.executable, "-m", "infra.cli", "rollout", "--stack", "dev", "--model", "fraud-scorer", "--steps=9"],
        cwd=env["root"], env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 2 and "unrecognized arguments: --steps=9" in result.stderr
    assert "Traceback" not in result.stderr
