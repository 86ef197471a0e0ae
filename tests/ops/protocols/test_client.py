"""One exchange with each runtime: timed on a scripted clock, then against the vLLM/TEI stand-in."""

from __future__ import annotations

import asyncio
import json
import socket

import httpx
import pytest

from infra.contracts.runtimes import Request, Runtime
from infra.ops.errors import OpsError
from infra.ops.protocols.client import exchange, served_models
from infra.ops.protocols.requests import RuntimeTarget, build

CHAT = RuntimeTarget("http://standin", Runtime.VLLM, Request.CHAT, "standin-chat")
EMBED = RuntimeTarget("http://standin", Runtime.TEI, Request.EMBEDDINGS)
RERANK = RuntimeTarget("http://standin", Runtime.TEI, Request.RERANK)


class ScriptedClock:
    """Time that is whatever the script last set: each read of the stream sets it first."""

    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


def event(document) -> bytes:
    return b"data: " + json.dumps(document).encode() + b"\n\n"


def token(text: str) -> bytes:
    return event({"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": text}}]})


def scripted_exchange(script: list[tuple[float, bytes]], headers: dict | None = None):
    """Stream ``script``'s bytes, each read arriving at its time, through the real client code."""
    clock = ScriptedClock(10.0)

    async def body():
        for at, data in script:
            clock.now = at
            yield data

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=headers or {"content-type": "text/event-stream"}, content=body())

    async def run():
        async with httpx.AsyncClient(base_url=CHAT.base_url, transport=httpx.MockTransport(answer)) as http:
            return await exchange(http, CHAT, build(CHAT, CHAT.served_model_name), 5, clock)

    return asyncio.run(run())


def test_ttft_and_inter_token_latency_are_measured_at_each_read_of_the_stream():
    role = event({"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]})
    usage = event({"choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": 3}})
    result = scripted_exchange([
        (10.02, role),
        (10.25, token("Hel")),
        (10.29, token("lo")[:20]),  # an event split over two reads counts when it is complete
        (10.31, token("lo")[20:]),
        (10.40, token("!") + usage + b"data: [DONE]\n\n"),
    ])  # fmt: skip
    assert result.ok, result.problems
    assert result.time_to_first_token == pytest.approx(0.25)
    assert result.token_gaps == pytest.approx((0.06, 0.09))
    assert result.latency_seconds == pytest.approx(0.40)
    assert (result.output_tokens, result.prompt_tokens, result.tokens_from) == (3, 12, "usage")


def test_a_chat_answer_that_is_not_a_stream_is_a_problem():
    result = scripted_exchange([(10.1, b"{}")], headers={"content-type": "application/json"})
    assert result.problems == ("content type 'application/json', expected 'text/event-stream' (a stream)",)


def run(coroutine):
    return asyncio.run(coroutine)


async def one(url: str, target: RuntimeTarget, timeout: float = 10):
    async with httpx.AsyncClient(base_url=url) as http:
        return await exchange(http, target, build(target, target.served_model_name), timeout)


def test_the_stand_ins_stream_is_timed_by_its_delays(standin):
    standin.behaviour.tokens = 4
    standin.behaviour.first_token_delay_seconds = 0.2
    standin.behaviour.token_delay_seconds = 0.05
    result = run(one(standin.url, CHAT))
    assert result.ok, result.problems
    # The server sleeps before it writes, so the first and the last token cannot arrive sooner than
    # this after the send (a busy client can only read them later); the ceilings only catch a hang.
    assert 0.2 <= result.time_to_first_token < 5
    assert len(result.token_gaps) == 3 and 0.35 <= result.time_to_first_token + sum(result.token_gaps) < 5
    assert (result.output_tokens, result.tokens_from) == (4, "usage")
    path, sent = standin.behaviour.seen[-1]
    assert path == "/v1/chat/completions" and sent["model"] == "standin-chat" and sent["stream"] is True


def test_without_usage_the_stand_ins_tokens_are_counted_from_chunks(standin):
    standin.behaviour.usage = False
    result = run(one(standin.url, CHAT))
    assert result.ok and (result.output_tokens, result.tokens_from) == (5, "chunks")


@pytest.mark.parametrize(
    ("target", "fault", "problem"),
    [
        (CHAT, "status-503", "status 503, expected 200: the engine is overloaded"),
        (CHAT, "no-done", "the stream ended without data: [DONE]"),
        (CHAT, "bad-json", "an event is not JSON: '{not json'"),
        (CHAT, "error-event", "error in the stream: out of KV cache"),
        (EMBED, "wrong-count", "7 embeddings for 8 inputs"),
        (EMBED, "ragged", "embeddings of different lengths: 4, 5"),
        (RERANK, "wrong-count", "7 scores for 8 texts"),
        (RERANK, "status-503", "status 503, expected 200: the engine is overloaded"),
    ],
)
def test_each_broken_answer_is_named(standin, target, fault, problem):
    standin.behaviour.fault = fault
    assert problem in run(one(standin.url, target)).problems


def test_embeddings_and_rerank_answers_are_judged_and_counted(standin):
    embedded = run(one(standin.url, EMBED))
    assert embedded.ok and embedded.inputs == 8 and embedded.prompt_tokens > 0
    ranked = run(one(standin.url, RERANK))
    assert ranked.ok and ranked.inputs == 8 and ranked.prompt_tokens is None


def test_a_refused_connection_is_a_problem_not_an_exception():
    with socket.socket() as listener:  # bound, never listening: connections are refused
        listener.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        result = run(one(url, CHAT))
    assert result.status == 0 and result.problems[0].startswith("cannot connect: ")


def test_an_answer_slower_than_the_timeout_is_a_problem(standin):
    standin.behaviour.first_token_delay_seconds = 2
    result = run(one(standin.url, CHAT, timeout=0.2))
    assert result.problems == ("no complete answer within 0.2 s",) and result.latency_seconds < 2


def test_served_models_are_asked_from_v1_models(standin):
    async def names(url: str):
        async with httpx.AsyncClient(base_url=url) as http:
            return await served_models(http, url, 5)

    standin.behaviour.served_name = "qwen2.5-7b-instruct"
    assert run(names(standin.url)) == ["qwen2.5-7b-instruct"]
    with pytest.raises(OpsError, match="did not name a served model .*pass --served-model-name"):
        run(names(standin.url + "/elsewhere"))
