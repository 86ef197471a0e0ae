"""Load tests of a vLLM model on a shared endpoint, against a stand-in for SageMaker and LMI.

The stand-in (``tests/ops/sagemaker_stream_standin.py``) takes the place of SageMaker's
runtime and an LMI inference component: moto cannot answer
``InvokeEndpointWithResponseStream`` with an event stream, and a real one needs GPUs
and an AWS account. It serves the AWS event-stream framing and LMI's chat chunks on
127.0.0.1, so boto3, pointed at it with dummy credentials, parses real bytes. The
figures checked are those its scripted delays and tokens imply.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import boto3
import pytest
from botocore.config import Config

from infra.cli.commands import main
from infra.contracts.runtimes import Request, Runtime
from infra.ops.component_load import ComponentCost, current_copies, drive, invoke_streamed
from infra.ops.protocols.requests import RuntimeTarget, chat
from infra.ops.runtime_load import LoadBounds
from tests.conftest import ROOT
from tests.ops.sagemaker_stream_standin import SageMakerStreamStandIn

ENDPOINT = "modelfleet-prod-shared-gpu-shared"
COMPONENT = "modelfleet-prod-support-assistant"
# support-assistant's copy on an ml.g5.12xlarge: 48 GiB of the 176,947 MiB components may reserve
# (90 % of 192 GiB) is its scarcest share, above 1 of 4 GPUs and 8 of 48 vCPUs.
SHARE = 49152 / int(192 * 1024 * 0.9)
PRICE = 7.91  # sagemaker:ml.g5.12xlarge in infra/plan/prices/eu-west-1.json


@pytest.fixture
def sagemaker() -> Iterator[SageMakerStreamStandIn]:
    running = SageMakerStreamStandIn()
    yield running
    running.stop()


def clients(url: str) -> tuple[object, object]:
    given = dict(region_name="eu-west-1", endpoint_url=url, aws_access_key_id="testing",
                 aws_secret_access_key="testing", config=Config(retries={"max_attempts": 1}))  # fmt: skip
    return boto3.client("sagemaker-runtime", **given), boto3.client("sagemaker", **given)


def request(max_tokens: int = 8):
    return chat(RuntimeTarget("u", Runtime.VLLM, Request.CHAT), None, max_tokens, fixed_length=True)


def test_the_price_of_copies_is_their_share_of_the_instance_price():
    cost = ComponentCost("ml.g5.12xlarge", "sagemaker:ml.g5.12xlarge", 8.0, 0.25, 2, "t")
    assert cost.usd_per_hour == pytest.approx(4.0)  # two copies, a quarter of an $8 instance each
    assert cost.usd_per_million_tokens(1000) == pytest.approx(4.0 / 3.6)  # 3.6 M tokens an hour


@pytest.mark.parametrize("wire", ["jsonlines", "sse"])
def test_one_streamed_completion_is_timed_from_the_payload_parts(sagemaker, wire):
    sagemaker.behaviour.wire, sagemaker.behaviour.split = wire, True  # every line across two parts
    sagemaker.behaviour.first_token_delay_seconds, sagemaker.behaviour.token_delay_seconds = 0.2, 0.05
    runtime, _ = clients(sagemaker.url)
    answer = invoke_streamed(runtime, ENDPOINT, COMPONENT, request(), 10)
    assert answer.problems == () and answer.status == 200
    assert 0.2 <= answer.time_to_first_token < 0.6
    # 0.05 s between tokens at the server; one arrival read late shortens the next gap a little
    assert len(answer.token_gaps) == 4 and all(0.03 <= gap < 0.3 for gap in answer.token_gaps)
    assert sum(answer.token_gaps) >= 0.18
    assert (answer.output_tokens, answer.prompt_tokens, answer.tokens_from) == (5, 21, "usage")
    path, headers, body = sagemaker.behaviour.seen[0]
    assert path == f"/endpoints/{ENDPOINT}/invocations-response-stream"
    assert headers["x-amzn-sagemaker-inference-component"] == COMPONENT
    assert headers["content-type"] == "application/json"
    assert body["messages"][0]["role"] == "user" and body["stream"] is True
    assert body["stream_options"] == {"include_usage": True} and body["max_tokens"] == 8
    assert "model" not in body  # LMI names the model itself ("lmi" unless OPTION_SERVED_MODEL_NAME)


def test_without_usage_the_chunks_with_text_are_counted(sagemaker):
    sagemaker.behaviour.usage = False
    answer = invoke_streamed(clients(sagemaker.url)[0], ENDPOINT, COMPONENT, request(3), 10)
    assert (answer.problems, answer.output_tokens, answer.tokens_from) == ((), 3, "chunks")


@pytest.mark.parametrize(
    ("fault", "status", "problem"),
    [
        ("model-error", 500, "ModelError: Received server error (500) from model"),
        ("stream-error", 200, "ModelStreamError: CUDA out of memory"),
        ("no-finish", 200, "the stream ended before a chunk with a finish_reason"),
    ],
)
def test_a_failed_answer_is_a_problem_not_an_exception(sagemaker, fault, status, problem):
    sagemaker.behaviour.fault = fault
    answer = invoke_streamed(clients(sagemaker.url)[0], ENDPOINT, COMPONENT, request(), 10)
    assert (answer.status, answer.problems) == (status, (problem,))


def test_a_run_keeps_its_concurrency_and_request_count_and_reads_the_copies(sagemaker):
    runtime, control = clients(sagemaker.url)
    limits = LoadBounds(concurrency=3, requests=7, duration_seconds=30, timeout_seconds=10)
    run = asyncio.run(drive(runtime, ENDPOINT, COMPONENT, request(), limits))
    assert (len(run.exchanges), run.stopped_by) == (7, "requests")
    assert all(e.ok and e.output_tokens == 5 for e in run.exchanges)
    assert current_copies(control, COMPONENT) == 2


# ---------------------------------------------------------------- the command


@pytest.fixture
def aws_at(sagemaker, monkeypatch) -> SageMakerStreamStandIn:
    """``modelfleet`` run in the repository, its boto3 clients sent to the stand-in."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("AWS_ENDPOINT_URL", sagemaker.url)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return sagemaker


def loadtest(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["loadtest", "--stack", "prod", "--model", "support-assistant", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_command_reports_tokens_latencies_and_the_copies_cost(aws_at, capsys, tmp_path):
    aws_at.behaviour.tokens, aws_at.behaviour.first_token_delay_seconds = 6, 0.1
    aws_at.behaviour.token_delay_seconds, aws_at.behaviour.copies = 0.02, 3
    out_file = tmp_path / "ic.json"
    code, out, err = loadtest(capsys, "--requests", "6", "--concurrency", "2", "--max-tokens", "4",
                              "--json", str(out_file))  # fmt: skip
    assert (code, err) == (0, ""), out
    report = json.loads(out_file.read_text())
    assert (report["sent"], report["succeeded"], report["output_tokens"], report["tokens_from"]) == (
        6, 6, 24, "usage",
    )  # fmt: skip
    assert 100 <= report["time_to_first_token_ms"]["p50"] < 500
    assert 20 <= report["inter_token_latency_ms"]["p50"] < 300
    assert (report["endpoint_name"], report["inference_component"]) == (ENDPOINT, COMPONENT)
    assert (report["copies"], report["instances"], report["copy_share"]) == (3, 3, pytest.approx(SHARE))
    cost = report["cost"]
    assert cost["usd_per_hour"] == pytest.approx(3 * SHARE * PRICE, abs=1e-4)
    expected = 3 * SHARE * PRICE / (report["output_tokens_per_second"] * 3600) * 1e6
    assert cost["usd_per_million_output_tokens"] == pytest.approx(expected, rel=1e-3)
    described = [seen for seen in aws_at.behaviour.seen if seen[0] == "/"]
    assert len(described) == 2  # the copies, before and after the run
    assert "$ per 1M output tokens" in out and "time to first token" in out
    assert "✓ within the objectives" in out
    # `cost tokens` reads the same report back and prices the copies' share, not whole instances
    code = main(["cost", "tokens", "--result", str(out_file), "--stack", "prod",
                 "--instance-type", "ml.g5.12xlarge"])  # fmt: skip
    printed = capsys.readouterr().out.replace("\n", " ")
    assert code == 0 and f"${expected:,.4f} per million output tokens" in printed


def test_copies_given_are_not_asked_for(aws_at, capsys):
    code, out, _ = loadtest(capsys, "--requests", "2", "--copies", "1")
    assert code == 0 and {seen[0] for seen in aws_at.behaviour.seen} == {
        f"/endpoints/{ENDPOINT}/invocations-response-stream"
    }
    assert "1 copy x 0.2778 of an ml.g5.12xlarge x $7.9100" in out.replace("\n", " ")


def test_a_dry_run_sends_nothing_and_asks_aws_nothing(aws_at, capsys):
    code, out, _ = loadtest(capsys, "--dry-run")
    assert code == 0 and aws_at.behaviour.seen == []
    flat = out.replace("\n", " ")
    assert "dry run, nothing sent: up to 200 requests, 8 in flight" in flat
    assert "InvokeEndpointWithResponseStream" in flat and '"stream": true' in flat
    assert "x 0.2778 of an ml.g5.12xlarge x $7.9100 an hour (sagemaker:ml.g5.12xlarge" in flat


def test_failures_fail_the_run_with_one_line(aws_at, capsys):
    aws_at.behaviour.fault = "stream-error"
    code, out, err = loadtest(capsys, "--requests", "3", "--copies", "2")
    assert code == 1 and "3 x ModelStreamError: CUDA out of memory" in out
    assert err.replace("\n", " ").startswith("✗ outside the objectives: no request succeeded")
    assert "Traceback" not in out + err


def test_a_component_scaled_to_zero_is_refused_before_sending(aws_at, capsys):
    aws_at.behaviour.copies = 0
    code, _, err = loadtest(capsys, "--requests", "2")
    assert code == 1 and "has no copy serving (CurrentCopyCount 0" in err
    assert [seen[0] for seen in aws_at.behaviour.seen] == ["/"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--instances", "2"], "--instances: not for a model on a shared endpoint"),
        (["--start-rate", "5"], "--start-rate: not for a model on a shared endpoint"),
        (["--copies", "0"], "--copies must be at least 1"),
        (["--payload", "{}"], "a chat --payload needs 'messages'"),
    ],
)
def test_flags_are_checked_before_anything_is_sent(aws_at, capsys, argv, message):
    code, _, err = loadtest(capsys, *argv)
    assert code == 2 and message in err.replace("\n", " ") and aws_at.behaviour.seen == []


def test_a_model_not_on_a_shared_endpoint_is_pointed_elsewhere(aws_at, capsys):
    code = main(["loadtest", "--stack", "prod", "--model", "ticket-router", "--requests", "1"])
    err = capsys.readouterr().err.replace("\n", " ")
    assert code == 2 and "not a vllm model on a shared endpoint: load-test it with --endpoint" in err
