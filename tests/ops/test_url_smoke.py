"""`modelfleet smoke --url`: one request per runtime against the vLLM/TEI stand-in, one line, an exit code."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from infra.cli.commands import main
from tests.conftest import ROOT


def smoke(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["smoke", *argv])
    captured = capsys.readouterr()
    return code, captured.out.replace("\n", " ").strip(), captured.err.replace("\n", " ").strip()


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (["--runtime", "vllm"], "vllm chat (standin-chat): 200 in"),
        (["--runtime", "tei"], "tei embeddings: 200 in"),
        (["--runtime", "tei", "--task", "rerank"], "tei rerank: 200 in"),
        (["--payload", '{"instances": [[1, 2]]}'], "modelfleet invocations: 200 in"),
    ],
)
def test_each_runtime_answers_one_request_in_one_line(standin, capsys, flags, said):
    code, out, err = smoke(capsys, "--url", standin.url, *flags)
    assert (code, err) == (0, "") and out.startswith(f"✓ {standin.url} {said}")


def test_a_vllm_line_says_when_the_first_token_came_and_how_many(standin, capsys):
    standin.behaviour.first_token_delay_seconds = 0.1
    code, out, _ = smoke(capsys, "--url", standin.url, "--runtime", "vllm", "--served-model-name", "m")
    assert code == 0 and "first token after" in out and out.endswith("5 tokens (counted from usage)")
    path, body = standin.behaviour.seen[-1]
    assert (path, body["model"], body["max_tokens"]) == ("/v1/chat/completions", "m", 16)


@pytest.mark.parametrize(
    ("stack", "model", "path", "said"),
    [
        ("staging", "support-chat", "/v1/chat/completions", "vllm chat (qwen2.5-7b-instruct)"),
        ("staging", "doc-embedder", "/v1/embeddings", "tei embeddings (doc-embedder): 200 in"),
        ("dev", "fraud-scorer", "/invocations", "modelfleet invocations: 200 in"),  # its rollout sample
    ],
)
def test_a_catalog_model_at_a_url_is_spoken_to_as_its_entry_says(
    standin, capsys, monkeypatch, stack, model, path, said
):
    monkeypatch.chdir(ROOT)
    code, out, _ = smoke(capsys, "--url", standin.url, "--stack", stack, "--model", model)
    assert code == 0 and f"{standin.url} {said}" in out
    assert standin.behaviour.seen[-1][0] == path
    if model == "fraud-scorer":
        assert standin.behaviour.seen[-1][1] == "0.42,17,3,0,1,250.0"


@pytest.mark.parametrize(
    ("flags", "fault", "said"),
    [
        (["--runtime", "vllm"], "no-done", "vllm chat (standin-chat): the stream ended without data: [DONE]"),
        (["--runtime", "vllm"], "status-503", "status 503, expected 200: the engine is overloaded"),
        (["--runtime", "tei"], "ragged", "tei embeddings: embeddings of different lengths: 4, 5"),
        (["--runtime", "tei", "--task", "rerank"], "wrong-count", "tei rerank: 7 scores for 8 texts"),
        (["--payload", "{}"], "status-503", "modelfleet invocations: status 503, expected 200: the engine"),
    ],
)
def test_a_bad_answer_is_one_line_on_stderr_and_exit_1(standin, capsys, flags, fault, said):
    standin.behaviour.fault = fault
    code, out, err = smoke(capsys, "--url", standin.url, *flags)
    assert (code, out) == (1, "") and err.startswith("✗ ") and said in err


def test_a_server_that_is_not_there_is_exit_1_without_a_traceback():
    with socket.socket() as listener:  # bound, never listening: connections are refused
        listener.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        run = subprocess.run(
            [sys.executable, "-m", "infra.cli", "smoke", "--url", url, "--runtime", "tei"],
            cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    assert run.returncode == 1 and "Traceback" not in run.stdout + run.stderr
    assert run.stderr.startswith(f"✗ {url} tei embeddings: cannot connect: ")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--url", "ftp://127.0.0.1/x", "--runtime", "tei"], "--url must be an http(s) URL"),
        (
            ["--url", "http://127.0.0.1:9", "--runtime", "vllm", "--payload", "{"],
            "--payload is not valid JSON",
        ),
        (
            ["--url", "http://127.0.0.1:9", "--runtime", "vllm", "--task", "rerank"],
            "--task goes with --runtime tei",
        ),
        (["--url", "http://127.0.0.1:9", "--timeout-seconds", "0"], "--timeout-seconds must be above 0"),
        ([], "smoke needs --stack and --model (what the stack deployed), or --url"),
    ],
)
def test_bad_input_is_exit_2_before_anything_is_sent(capsys, argv, message):
    code, out, err = smoke(capsys, *argv)
    assert (code, out) == (2, "") and message in err


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["--stack", "dev", "--model", "fraud-scorer", "--runtime", "vllm"], "--runtime go with --url"),
        (["--stack", "dev", "--model", "fraud-scorer", "--payload", "{}"], "--payload go with --url"),
        (["--url", "http://127.0.0.1:9", "--variant", "canary"], "--variant picks a SageMaker variant"),
    ],
)
def test_flags_of_the_other_kind_of_smoke_test_are_refused(capsys, argv, error):
    with pytest.raises(SystemExit) as stopped:
        main(["smoke", *argv])
    assert stopped.value.code == 2 and error in capsys.readouterr().err
