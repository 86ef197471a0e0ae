"""``modelfleet drift`` and ``modelfleet drift baseline`` against moto: output, writes, and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from infra.cli.commands import main
from infra.contracts import drift as contract
from infra.ops.drift import job, store
from tests.conftest import ROOT
from tests.ops.drift.conftest import (
    BUCKET,
    MODEL,
    csv_input,
    make_bucket,
    now,
    put_sagemaker_captures,
    record,
    rows,
    spread,
    upload_baseline,
    write_sample,
)  # fmt: skip

TARGET = ["--stack", "dev", "--model", MODEL]


@pytest.fixture(autouse=True)
def project_root(monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("COLUMNS", "250")  # rich: tables unwrapped


def objects(aws) -> list[str]:
    return [o["Key"] for o in aws.s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def one_line_error(capsys) -> str:
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    return lines[0]


def test_baseline_dry_run_prints_the_baseline_and_writes_nothing(aws, tmp_path, capsys):
    sample = write_sample(tmp_path / "sample.csv", rows(500, seed=1))
    assert main(["drift", "baseline", *TARGET, "--dataset", str(sample), "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert objects(aws) == []
    assert "baseline of fraud-scorer: 500 rows" in printed
    assert (
        "country   │ categorical" in printed.replace("  ", " ").replace(" │", "  │")
        or "categorical" in printed
    )
    assert (
        f"dry run: nothing written; would write {MODEL}/{contract.BASELINE_KEY} in the stack's capture bucket"
        in printed
    )


def test_baseline_is_written_to_the_stacks_capture_bucket_found_by_prefix_and_tags(aws, tmp_path, capsys):
    make_bucket(aws.s3, "modelfleet-dev-capture-20260101000000000000000002", {"environment": "other"})
    make_bucket(aws.s3, "modelfleet-prod-capture-20260101000000000000000003",
                {"environment": "prod", "project": "modelfleet"})  # fmt: skip
    make_bucket(aws.s3, "modelfleet-dev-capture-20260101000000000000000004")  # untagged
    sample = write_sample(tmp_path / "sample.jsonl", rows(400, seed=1))
    argv = ["drift", "baseline", *TARGET, "--dataset", str(sample), "--features", "amount,country"]
    assert main(argv) == 0
    assert f"written to s3://{BUCKET}/{MODEL}/{contract.BASELINE_KEY}" in capsys.readouterr().out
    written = store.read_json(aws.s3, BUCKET, store.baseline_key(MODEL))
    assert list(written["features"]) == ["amount", "country"] and written["rows"] == 400
    assert written["columns"] == ["amount", "age", "score", "country"]
    assert written["features"]["amount"]["kind"] == "numeric"
    assert written["features"]["country"]["categories"] == ["DE", "FR", "IT"]


def test_an_explicit_bucket_is_used_as_given(aws, tmp_path, capsys):
    make_bucket(aws.s3, "my-captures")
    sample = write_sample(tmp_path / "sample.csv", rows(100, seed=1))
    assert main(["drift", "baseline", *TARGET, "--dataset", str(sample), "--bucket", "my-captures"]) == 0
    assert store.read_json(aws.s3, "my-captures", store.baseline_key(MODEL))["rows"] == 100


def test_no_capture_bucket_is_one_line_naming_the_way_out(aws, tmp_path, capsys):
    aws.s3.delete_bucket(Bucket=BUCKET)
    sample = write_sample(tmp_path / "sample.csv", rows(100, seed=1))
    assert main(["drift", "baseline", *TARGET, "--dataset", str(sample)]) == 2
    assert one_line_error(capsys) == (
        "✗ no capture bucket of stack dev (named modelfleet-dev-capture-..., tagged environment dev) in this "
        "account: does a model of the stack capture data? Or pass --bucket"
    )


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["--model", "nope", "--dataset", "{sample}"], "✗ stack 'dev' has no model 'nope' (models: "),
        (["--model", MODEL, "--dataset", "{missing}"], "No such file or directory"),
        (["--model", MODEL, "--dataset", "{sample}", "--features", "amount,colour"], "has no column colour"),
        (["--model", MODEL, "--dataset", "{text}"], "a .csv file with a header row, or .jsonl"),
        (["--model", MODEL, "--dataset", "{empty}"], "no rows"),
    ],
)
def test_bad_baseline_input_is_one_line_and_exit_2(aws, tmp_path, capsys, argv, error):
    paths = {
        "sample": write_sample(tmp_path / "sample.csv", rows(100, seed=1)),
        "missing": tmp_path / "missing.csv",
        "text": tmp_path / "notes.txt",
        "empty": tmp_path / "empty.csv",
    }
    paths["empty"].write_text("amount,age\n")
    argv = [a.format(**paths) for a in argv]
    assert main(["drift", "baseline", "--stack", "dev", *argv]) == 2
    assert error in one_line_error(capsys)
    assert objects(aws) == []


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["drift", "--stack", "dev"], "drift needs --stack and --model"),
        (["drift", *TARGET, "--last", "0"], "argument --last: at least 1"),
        (["drift", *TARGET, "--last", "two"], "argument --last: a whole number, not 'two'"),
        (["drift", "--last", "2", "baseline", *TARGET, "--dataset", "x.csv"], "--last goes with `drift`"),
        (["drift", "baseline", *TARGET, "--dataset", "x.csv", "--features", "a,,b"], "comma-separated"),
        (["drift", "baseline", *TARGET], "the following arguments are required: --dataset"),
    ],
)
def test_bad_flags_are_refused_by_the_parser(argv, error, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    err = capsys.readouterr().err
    assert stopped.value.code == 2 and "Traceback" not in err
    assert error in err.strip().splitlines()[-1]


def test_drift_without_a_baseline_is_one_line_and_no_error(aws, capsys):
    assert main(["drift", *TARGET]) == 0
    out = capsys.readouterr().out.strip()
    assert out == (
        f"no baseline for {MODEL} at s3://{BUCKET}/{MODEL}/{contract.BASELINE_KEY}: write one with "
        f"`modelfleet drift baseline --stack dev --model {MODEL} --dataset <sample.csv>`"
    )


def test_drift_without_reports_is_one_line_and_no_error(aws, tmp_path, capsys):
    upload_baseline(aws, tmp_path)
    assert main(["drift", *TARGET]) == 0
    assert capsys.readouterr().out.strip() == (
        f"no drift reports for {MODEL} yet under s3://{BUCKET}/{MODEL}/{contract.REPORTS_PREFIX}"
    )


def test_drift_shows_the_last_runs_and_what_drifted(aws, tmp_path, capsys):
    upload_baseline(aws, tmp_path)
    end = now()
    quiet = rows(200, seed=2)
    put_sagemaker_captures(
        aws, [(t, record(csv_input(r), t)) for t, r in zip(spread(end, 2, 200), quiet, strict=True)]
    )
    first = job.execute(aws.s3, aws.cloudwatch, job.Run(BUCKET, MODEL, 3), now=end)
    shifted = rows(200, seed=3, shift={"amount": 30})
    later = end.replace(second=0) + job.timedelta(hours=1)
    put_sagemaker_captures(
        aws, [(t, record(csv_input(r), t)) for t, r in zip(spread(later, 0.5, 200), shifted, strict=True)]
    )
    second = job.execute(aws.s3, aws.cloudwatch, job.Run(BUCKET, MODEL, 1), now=later)

    assert main(["drift", *TARGET]) == 0
    out = capsys.readouterr().out
    assert first["run_id"] in out and second["run_id"] in out
    assert out.index(first["run_id"]) < out.index(second["run_id"])
    assert f"features in run {second['run_id']}" in out
    amount = next(line for line in out.splitlines() if line.startswith("│ amount"))
    assert "yes" in amount and "PSI" in amount
    assert main(["drift", *TARGET, "--last", "1"]) == 0
    out = capsys.readouterr().out
    assert first["run_id"] not in out and "the last 1 runs" in out


def test_an_aws_failure_is_one_line_and_exit_1(aws, capsys, monkeypatch):
    from botocore.exceptions import EndpointConnectionError

    def unreachable(*args, **kwargs):
        raise EndpointConnectionError(endpoint_url="https://s3.eu-west-1.amazonaws.com")

    monkeypatch.setattr("infra.ops.drift.cli.capture_bucket", unreachable)
    assert main(["drift", *TARGET]) == 1
    assert one_line_error(capsys).startswith("✗ AWS call failed: Could not connect to the endpoint URL")


def test_modelfleet_starts_without_numpy_scipy_or_boto3():
    code = "import json, sys, infra.cli.commands; print(json.dumps([m for m in ('numpy', 'scipy', 'boto3') if m in sys.modules]))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert json.loads(loaded.stdout) == []


def test_the_job_module_imports_without_pulumi():
    """The job runs in a Processing job or a CronJob: the package, numpy, scipy and boto3 are all it needs."""
    code = "import sys, infra.ops.drift.job; print(any(m.startswith('pulumi') for m in sys.modules))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert loaded.stdout.strip() == "False"


def test_drift_asks_for_s3_and_cloudwatch_clients_only():
    """No driver stands between drift and AWS (tests/ops/drivers/test_registry.py): it never asks for SageMaker."""
    import re

    text = "".join(path.read_text() for path in (ROOT / "infra" / "ops" / "drift").glob("*.py"))
    assert set(re.findall(r'client\("([\w-]+)"', text)) == {"s3", "cloudwatch"}
