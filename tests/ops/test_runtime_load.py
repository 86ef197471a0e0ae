"""vLLM and TEI load tests: the loop's bounds and the report's arithmetic on a fake clock, then the
command against the vLLM/TEI stand-in."""

from __future__ import annotations

import asyncio
import json

import pytest

from infra.cli.commands import main
from infra.ops.errors import InvalidInput
from infra.ops.protocols.client import Exchange
from infra.ops.runtime_load import LoadBounds, LoadRun, objective_problems, run_load, summarize, token_rate
from infra.ops.runtime_load_cli import report_lines
from tests.conftest import ROOT


class TickingClock:
    """A clock that moves only when a fake request takes time."""

    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def fake_sends(clock: TickingClock, seconds_each: float):
    state = {"inflight": 0, "most": 0}

    async def send() -> Exchange:
        state["inflight"] += 1
        state["most"] = max(state["most"], state["inflight"])
        await asyncio.sleep(0)  # let the other workers start theirs
        clock.now += seconds_each
        state["inflight"] -= 1
        return Exchange(200, seconds_each)

    return send, state


def test_the_loop_stops_at_the_request_count_with_the_concurrency_in_flight():
    clock = TickingClock()
    send, state = fake_sends(clock, 0.5)
    run = asyncio.run(run_load(send, LoadBounds(concurrency=4, requests=10, duration_seconds=3600), clock))
    assert (len(run.exchanges), run.stopped_by, state["most"]) == (10, "requests", 4)


def test_the_loop_stops_starting_requests_at_the_duration():
    clock = TickingClock()
    send, _ = fake_sends(clock, 1.0)
    run = asyncio.run(run_load(send, LoadBounds(concurrency=1, requests=1000, duration_seconds=5), clock))
    assert (len(run.exchanges), run.stopped_by, run.elapsed_seconds) == (5, "duration", 5.0)


def chat_exchange(ttft: float, gaps: tuple[float, ...], latency: float, tokens: int) -> Exchange:
    return Exchange(200, latency, (), 1, ttft, gaps, tokens, 20, "usage")


CHAT_RUN = LoadRun(
    [
        chat_exchange(0.040, (0.010, 0.020), 0.5, 100),
        chat_exchange(0.060, (0.010, 0.030), 0.7, 100),
        Exchange(0, 2.0, ("no complete answer within 2 s",)),
        Exchange(503, 0.1, ("status 503, expected 200: overloaded",)),
    ],
    elapsed_seconds=2.0,
    stopped_by="requests",
)


def test_a_chat_report_counts_tokens_over_the_run_and_latencies_of_good_requests_only():
    report = summarize(CHAT_RUN, url="http://127.0.0.1:8000", runtime="vllm", request="chat",
                       model="qwen", concurrency=2, streamed=True)  # fmt: skip
    document = report.to_dict()
    assert document["requests_per_second"] == 1.0 and document["output_tokens_per_second"] == 100.0
    assert document["input_tokens_per_second"] == 20.0 and document["tokens_from"] == "usage"
    assert document["time_to_first_token_ms"] == {"p50": 40.0, "p95": 60.0, "p99": 60.0}
    assert document["inter_token_latency_ms"] == {"p50": 10.0, "p95": 30.0, "p99": 30.0}
    assert document["latency_ms"] == {"p50": 500.0, "p95": 700.0, "p99": 700.0}
    assert (document["sent"], document["failed"], document["error_rate_percent"]) == (4, 2, 50.0)
    assert document["errors"] == {
        "no complete answer within 2 s": 1,
        "status 503, expected 200: overloaded": 1,
    }
    lines = report_lines(report)
    assert lines[0] == "vllm chat (qwen): 4 requests at concurrency 2 in 2.0 s (all sent)"
    assert "  output tokens/s            100.0  (200 tokens, counted from usage)" in lines
    assert "  time to first token   p50 40.0 ms     p95 60.0 ms     p99 60.0 ms" in lines
    assert "  errors                2 of 4 (50.00 %)" in lines


def test_a_tei_report_counts_inputs():
    run = LoadRun(
        [Exchange(200, 0.02, (), 8, prompt_tokens=96)] * 10, elapsed_seconds=0.5, stopped_by="duration"
    )
    document = summarize(
        run, url="u", runtime="tei", request="embeddings", model=None, concurrency=4
    ).to_dict()
    assert (document["inputs_per_second"], document["input_tokens_per_second"]) == (160.0, 1920.0)
    assert "time_to_first_token_ms" not in document and document["stopped_by"] == "duration"


def test_objectives_judge_errors_and_the_p99():
    report = summarize(
        CHAT_RUN, url="u", runtime="vllm", request="chat", model=None, concurrency=2, streamed=True
    )
    assert objective_problems(report, None, 50) == []
    assert objective_problems(report, 600, 10) == ["errors 50.00 % > 10 %", "p99 latency 700 ms > 600 ms"]
    nothing = summarize(LoadRun([], 1.0, "duration"), url="u", runtime="tei", request="rerank", model=None,
                        concurrency=1)  # fmt: skip
    assert objective_problems(nothing, None, 1) == ["no request succeeded"]


def test_cost_reads_the_priced_token_rate_back_from_a_report():
    chat = summarize(CHAT_RUN, url="u", runtime="vllm", request="chat", model="qwen", concurrency=2,
                     instances=2, streamed=True).to_dict()  # fmt: skip
    rate = token_rate(json.loads(json.dumps(chat)), "r.json")
    assert (rate.tokens_per_second, rate.tokens, rate.instances) == (100.0, "output", 2)
    assert rate.described == "vllm chat (qwen) at u, concurrency 2"
    rerank = summarize(LoadRun([Exchange(200, 0.1, (), 8)], 1.0, "requests"), url="u", runtime="tei",
                       request="rerank", model=None, concurrency=1).to_dict()  # fmt: skip
    with pytest.raises(InvalidInput, match="r.json has no token rate to price \\(request rerank\\)"):
        token_rate(rerank, "r.json")
    with pytest.raises(InvalidInput, match="not a `modelfleet loadtest --json` report"):
        token_rate({"sent": 3}, "r.json")


# ---------------------------------------------------------------- the command, against the stand-in


def loadtest(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["loadtest", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_vllm_load_test_reports_tokens_and_token_latencies_and_writes_json(standin, capsys, tmp_path):
    standin.behaviour.tokens = 8
    standin.behaviour.first_token_delay_seconds = 0.05
    out_file = tmp_path / "loadtest.json"
    code, out, err = loadtest(capsys, "--url", standin.url, "--runtime", "vllm", "--requests", "12",
                              "--concurrency", "3", "--max-tokens", "6", "--json", str(out_file))  # fmt: skip
    assert (code, err) == (0, ""), out
    report = json.loads(out_file.read_text())
    assert (report["sent"], report["succeeded"], report["concurrency"], report["stopped_by"]) == (
        12,
        12,
        3,
        "requests",
    )
    assert (report["output_tokens"], report["tokens_from"], report["model"]) == (72, "usage", "standin-chat")
    assert report["time_to_first_token_ms"]["p50"] >= 50 and report["within_objectives"] is True
    assert report["objectives"] == {"p99_latency_ms": None, "error_rate_percent": 1.0}
    assert all(body["max_tokens"] == 6 and body["ignore_eos"] for _, body in standin.behaviour.seen)
    for shown in ("output tokens/s", "time to first token", "inter-token latency", "end-to-end latency"):
        assert shown in out
    assert "✓ within the objectives" in out


@pytest.mark.parametrize(("task", "path"), [("embed", "/v1/embeddings"), ("rerank", "/rerank")])
def test_a_tei_load_test_reports_inputs(standin, capsys, task, path):
    code, out, _ = loadtest(
        capsys, "--url", standin.url, "--runtime", "tei", "--task", task, "--requests", "6"
    )
    assert code == 0 and "inputs/s" in out and "(48 inputs)" in out and "time to first token" not in out
    assert {p for p, _ in standin.behaviour.seen} == {path}


def test_a_catalog_model_brings_its_served_name_and_slo(standin, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    code, out, _ = loadtest(capsys, "--url", standin.url, "--stack", "staging", "--model", "support-chat",
                            "--requests", "2", "--json", str(tmp_path / "r.json"))  # fmt: skip
    report = json.loads((tmp_path / "r.json").read_text())
    assert code == 0 and report["model"] == "qwen2.5-7b-instruct"
    assert report["objectives"] == {"p99_latency_ms": 30000.0, "error_rate_percent": 1.0}
    assert "objectives p99 ≤ 30000 ms, errors ≤ 1 %" in out


def test_failed_requests_are_counted_by_problem_and_fail_the_run(standin, capsys, tmp_path):
    standin.behaviour.fault = "error-event"
    code, out, err = loadtest(capsys, "--url", standin.url, "--runtime", "vllm", "--requests", "4",
                              "--json", str(tmp_path / "r.json"))  # fmt: skip
    assert code == 1 and "4 x error in the stream: out of KV cache" in out
    assert "outside the objectives: no request succeeded; errors 100.00 % > 1 %" in err.replace("\n", " ")
    assert json.loads((tmp_path / "r.json").read_text())["within_objectives"] is False


def test_the_duration_bounds_a_run_that_the_request_count_would_not(standin, capsys, tmp_path):
    standin.behaviour.token_delay_seconds = 0.05  # 5 tokens: about 0.2 s a request
    code, _, _ = loadtest(capsys, "--url", standin.url, "--runtime", "vllm", "--requests", "100000",
                          "--duration-seconds", "0.3", "--json", str(tmp_path / "r.json"))  # fmt: skip
    report = json.loads((tmp_path / "r.json").read_text())
    assert code == 0 and report["stopped_by"] == "duration" and 8 <= report["sent"] < 100
    assert report["elapsed_seconds"] < 30  # the duration and one request, not the request count


def test_a_dry_run_shows_the_request_and_sends_nothing(standin, capsys):
    code, out, _ = loadtest(capsys, "--url", standin.url, "--runtime", "vllm", "--dry-run")
    assert code == 0 and standin.behaviour.seen == []
    assert "dry run, nothing sent: up to 200 requests, 8 in flight, for at most 60 s" in out.replace(
        "\n", " "
    )
    assert '"stream": true' in out and "/v1/chat/completions" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--runtime", "vllm", "--start-rate", "5"],
            "--start-rate: flags of runtime modelfleet's rate search",
        ),
        (["--runtime", "tei", "--max-tokens", "5"], "--max-tokens is a positive count"),
        (["--runtime", "vllm", "--concurrency", "0"], "--concurrency is 1-1024"),
        (["--payload", "{}", "--concurrency", "4"], "--concurrency: flags of a vllm or tei load test"),
        (["--runtime", "vllm", "--payload", "{}"], "a chat --payload needs 'messages'"),
    ],
)
def test_flags_the_kind_of_load_test_does_not_use_are_refused_before_sending(standin, capsys, argv, message):
    code, _, err = loadtest(capsys, "--url", standin.url, "--slo-p99-ms", "100", *argv)
    assert code == 2 and message in err.replace("\n", " ") and standin.behaviour.seen == []


def test_runtime_flags_need_a_url(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["loadtest", "--endpoint", "modelfleet-dev-x", "--region", "eu-west-1", "--runtime", "vllm"])
    assert stopped.value.code == 2 and "--runtime go with --url" in capsys.readouterr().err
