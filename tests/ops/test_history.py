"""Rollout history: what rollout, abort and promote record, and `modelfleet history` reading it back.

Against moto in-process (SageMaker, CloudWatch, Logs, STS), through the command
line as an operator runs it, with a fake clock: no test waits for a bake.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.sagemakerruntime.models import sagemakerruntime_backends

from infra.cli.commands import main
from infra.ops import cli
from infra.ops.history import Actor, Command, HistoryLog, HistoryRecord, Result, StepRecord, timestamp
from infra.ops.rollout import Rollout
from infra.ops.target import load_project, resolve
from infra.specs import naming
from tests.conftest import copy_project
from tests.ops.conftest import (
    ACCOUNT,
    REGION,
    ROLLOUT,
    FakeClock,
    create_alarms,
    deploy,
    edit_stack,
    put_invocations,
)

MODEL = ["--stack", "dev", "--model", "fraud-scorer"]
GROUP = naming.rollout_history_log_group("dev")


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """dev with fraud-scorer's gates judging from 10 invocations, 120 s bakes and steps 25/50/100."""
    root = copy_project(tmp_path_factory.mktemp("project"))
    edit_stack(root, "dev", "fraud-scorer", {f"rollout.{k}": v for k, v in ROLLOUT.items()})
    return root


@pytest.fixture
def aws(project, tmp_path, monkeypatch) -> Iterator[dict[str, Any]]:
    """The deployed dev stack in moto, its history log group included, and the CLI run from a copy of
    the project on a fake clock, as user jdoe."""
    with mock_aws():
        clients = {s: boto3.client(s, region_name=REGION) for s in ("sagemaker", "cloudwatch", "logs")}
        clients["logs"].create_log_group(logGroupName=GROUP)
        sagemakerruntime_backends[ACCOUNT][REGION].results_queue.append(
            ('{"predictions": [0.91]}', "application/json", "canary", "")
        )
        root = copy_project(tmp_path)
        (root / "stacks" / "Pulumi.dev.yaml").write_text((project / "stacks" / "Pulumi.dev.yaml").read_text())
        monkeypatch.chdir(root)
        clock = FakeClock()  # one for every command of a test, so its records keep their order
        monkeypatch.setattr("infra.ops.rollout.Rollout", functools.partial(Rollout, clock=clock))
        monkeypatch.setattr(cli, "SystemClock", lambda: clock)
        monkeypatch.setattr("infra.ops.history.getpass.getuser", lambda: "jdoe")
        target = resolve(load_project(root), "dev", "fraud-scorer")
        yield {**clients, "target": target, "root": root, "clock": clock}


def stand_up(aws, weights: dict[str, float] | None = None, canary_errors: float = 0) -> None:
    target = aws["target"]
    deploy(aws["sagemaker"], target, weights)
    create_alarms(aws["cloudwatch"], target)
    for variant, invocations, errors in (("stable", 1000, 0), ("canary", 100, canary_errors)):
        put_invocations(aws["cloudwatch"], target, variant, invocations, errors, minutes=range(-1, 61))


def records(model: str | None = None) -> list[HistoryRecord]:
    return HistoryLog("dev", REGION).read(model)


def test_a_rollout_records_who_why_each_step_with_its_gate_readings_and_the_outcome(aws, capsys):
    stand_up(aws)
    assert main(["rollout", *MODEL, "--reason", "CHG-101: fraud-scorer v13"]) == 0
    assert "not recorded" not in capsys.readouterr().err
    (record,) = records()
    assert (record.stack, record.model, record.backend, record.command, record.outcome) == (
        "dev", "fraud-scorer", "sagemaker", "rollout", Result.SUCCEEDED,
    )  # fmt: skip
    assert record.target == "modelfleet-dev-fraud-scorer"
    assert record.actor == Actor(arn=f"arn:aws:sts::{ACCOUNT}:user/moto", user="jdoe")
    assert record.reason == "CHG-101: fraud-scorer v13"
    assert [(s.step, s.canary_percent, s.decision) for s in record.steps] == [
        (1, 25, "ok"), (2, 50, "ok"), (3, 100, "ok"),
    ]  # fmt: skip
    first = record.steps[0]
    assert first.firing_alarms == [] and first.missing_alarms == []
    assert set(first.variants) == {"stable", "canary"}
    assert first.variants["canary"]["invocations"] > 0 and first.variants["canary"]["error_rate_percent"] == 0
    assert record.started < record.ended  # three bakes of 120 s on the fake clock
    assert record.steps[-1].at == record.ended


def test_a_rolled_back_rollout_records_the_gate_that_failed(aws, capsys):
    stand_up(aws, canary_errors=30)
    assert main(["rollout", *MODEL]) == 1
    (record,) = records()
    assert record.outcome is Result.ROLLED_BACK and record.reason is None
    (step,) = record.steps
    assert (step.canary_percent, step.decision) == (25, "UNHEALTHY")
    assert step.variants["canary"]["error_rate_percent"] == 30.0
    assert "canary 5XX rate 30.00 % exceeds stable's 0.00 %" in record.message


def test_a_refused_rollout_is_recorded_as_refused(aws, capsys):
    stand_up(aws)
    aws["cloudwatch"].set_alarm_state(
        AlarmName=aws["target"].alarm_names[0], StateValue="ALARM", StateReason="test"
    )
    assert main(["rollout", *MODEL]) == 1
    (record,) = records()
    assert record.outcome is Result.REFUSED and record.steps == []
    assert record.message.startswith("refused, no traffic moved")


def test_an_abort_and_a_promote_record_theirs_in_order(aws, capsys):
    stand_up(aws, weights={"stable": 50, "canary": 50})
    assert main(["rollout", "abort", *MODEL, "--reason", "p99 doubled"]) == 0
    aws["sagemaker"].update_endpoint_weights_and_capacities(  # a new canary at the stack file's 20 %
        EndpointName=aws["target"].endpoint_name,
        DesiredWeightsAndCapacities=[{"VariantName": "stable", "DesiredWeight": 80},
                                     {"VariantName": "canary", "DesiredWeight": 20}],
    )  # fmt: skip
    assert main(["rollout", *MODEL]) == 0
    assert main(["promote", *MODEL, "--reason", "CHG-102"]) == 0
    abort, rollout, promote = records("fraud-scorer")
    assert (abort.command, abort.outcome, abort.reason) == ("abort", Result.SUCCEEDED, "p99 doubled")
    assert [(s.canary_percent, s.decision) for s in abort.steps] == [(0, "back to stable from 50 % canary")]
    assert (rollout.command, rollout.outcome) == ("rollout", Result.SUCCEEDED)
    assert (promote.command, promote.outcome, promote.reason) == ("promote", Result.SUCCEEDED, "CHG-102")
    assert [s.decision for s in promote.steps] == ["stack file edited: shift"]
    assert "next: pulumi up" in promote.message

    assert main(["promote", *MODEL]) == 1  # the shift is not deployed yet
    assert records()[-1].outcome is Result.REFUSED


def test_an_abort_while_a_rollout_bakes_records_both(aws, capsys):
    stand_up(aws)

    def abort_at_the_second_step(_seconds: float) -> None:
        described = aws["sagemaker"].describe_endpoint(EndpointName=aws["target"].endpoint_name)
        if {v["VariantName"]: v["CurrentWeight"] for v in described["ProductionVariants"]}["canary"] == 50:
            assert main(["rollout", "abort", *MODEL, "--reason", "INC-4: latency"]) == 0

    aws["clock"].on_sleep = abort_at_the_second_step
    assert main(["rollout", *MODEL]) == 1
    abort, rollout = records()
    assert (abort.command, abort.outcome, abort.reason) == ("abort", Result.SUCCEEDED, "INC-4: latency")
    assert (rollout.command, rollout.outcome) == ("rollout", Result.ABORTED)
    assert [(s.canary_percent, s.decision) for s in rollout.steps] == [(25, "ok")]  # the 50 % bake stopped
    assert rollout.message == "stopped: rollout abort returned the traffic to stable"


def test_dry_runs_record_nothing(aws, capsys):
    stand_up(aws, weights={"stable": 0, "canary": 100})
    assert main(["rollout", *MODEL, "--dry-run"]) == 0
    assert main(["rollout", "abort", *MODEL, "--dry-run"]) == 0
    assert main(["promote", *MODEL, "--force", "--reason", "drill", "--dry-run"]) == 0
    assert aws["logs"].describe_log_streams(logGroupName=GROUP)["logStreams"] == []


def test_a_history_that_cannot_be_written_warns_once_and_keeps_the_commands_exit_code(aws, capsys):
    stand_up(aws)
    aws["logs"].delete_log_group(logGroupName=GROUP)
    assert main(["rollout", *MODEL]) == 0
    (warning,) = capsys.readouterr().err.strip().splitlines()
    assert warning.startswith(f"! not recorded in the rollout history ({GROUP}): ")
    assert "log group does not exist" in warning


# modelfleet history ------------------------------------------------------------------------------


def write(model: str, command: Command, hours_ago: float, outcome: Result = Result.SUCCEEDED) -> str:
    """A record of a command that ended ``hours_ago``; returns when, as the table prints it."""
    at = time.time() - 3600 * hours_ago
    ended = timestamp(at)
    record = HistoryRecord(
        stack="dev", model=model, backend="sagemaker", target=f"modelfleet-dev-{model}", command=command,
        actor=Actor("arn:aws:sts::123456789012:assumed-role/deployer/jdoe", "jdoe"), started=ended,
        ended=ended, outcome=outcome, reason="CHG-7" if command == "promote" else None,
        steps=[StepRecord(1, ended, "ok", canary_percent=25)],
    )  # fmt: skip
    HistoryLog("dev", REGION).write(record, at)
    return ended.replace("T", " ").removesuffix("Z")


def test_history_reads_the_records_back_oldest_first_and_filters_by_model(aws, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")  # the table on one line per record
    first = write("fraud-scorer", "rollout", hours_ago=3)
    write("doc-embedder", "rollout", hours_ago=2, outcome=Result.ROLLED_BACK)
    last = write("fraud-scorer", "promote", hours_ago=1)
    capsys.readouterr()

    assert main(["history", "--stack", "dev", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert [(r["model"], r["command"], r["outcome"]) for r in found] == [
        ("fraud-scorer", "rollout", "succeeded"), ("doc-embedder", "rollout", "rolled_back"),
        ("fraud-scorer", "promote", "succeeded"),
    ]  # fmt: skip
    assert found[0]["steps"][0]["canary_percent"] == 25

    assert main(["history", "--stack", "dev", "--model", "fraud-scorer", "--last", "1", "--json"]) == 0
    assert [r["command"] for r in json.loads(capsys.readouterr().out)] == ["promote"]

    assert main(["history", "--stack", "dev", "--model", "fraud-scorer"]) == 0
    table = capsys.readouterr().out
    assert table.index(first) < table.index(last)
    assert "doc-embedder" not in table and "jdoe" in table and "CHG-7" in table and "25 % ok" in table


def test_history_says_so_in_one_line_without_records_or_without_the_log_group(aws, capsys):
    assert main(["history", "--stack", "dev", "--model", "fraud-scorer"]) == 0
    assert capsys.readouterr().out.strip() == f"no records of model fraud-scorer in {GROUP} ({REGION})"
    aws["logs"].delete_log_group(logGroupName=GROUP)
    assert main(["history", "--stack", "dev"]) == 1
    assert capsys.readouterr().err.strip() == (
        f"✗ no rollout history: log group {GROUP} does not exist in {REGION} (deploy the stack: pulumi up)"
    )
