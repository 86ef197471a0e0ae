"""The request each runtime is sent: path, body and what it carries."""

from __future__ import annotations

import json

import pytest

from infra.contracts.runtimes import Request, Runtime
from infra.ops.errors import InvalidInput
from infra.ops.protocols.requests import (
    EVENT_STREAM,
    SAMPLE_TEXTS,
    RuntimeTarget,
    body_text,
    build,
    request_for,
)

URL = "http://127.0.0.1:8000"


def target(runtime: Runtime, request: Request, payload: str | None = None, **extra) -> RuntimeTarget:
    return RuntimeTarget(URL, runtime, request, payload=payload, **extra)


def body(request) -> dict:
    return json.loads(request.body)


def test_vllm_gets_a_streamed_chat_completion_that_reports_its_usage():
    sent = build(target(Runtime.VLLM, Request.CHAT), "qwen2.5-7b-instruct", max_tokens=32, fixed_length=True)
    assert (sent.path, sent.streamed, sent.headers["accept"]) == ("/v1/chat/completions", True, EVENT_STREAM)
    assert body(sent) | {"messages": None} == {
        "messages": None, "model": "qwen2.5-7b-instruct", "max_tokens": 32, "ignore_eos": True,
        "stream": True, "stream_options": {"include_usage": True},
    }  # fmt: skip


def test_a_chat_payload_is_sent_as_given_but_always_streamed_with_usage():
    payload = json.dumps({"model": "mine", "messages": [{"role": "user", "content": "hi"}], "stream": False})
    sent = body(
        build(target(Runtime.VLLM, Request.CHAT, payload), "served", max_tokens=64, fixed_length=True)
    )
    assert sent["model"] == "mine" and sent["stream"] is True and sent["stream_options"]["include_usage"]
    assert sent["max_tokens"] == 64 and "ignore_eos" not in sent  # a payload never forced to a length
    unchanged = body(build(target(Runtime.VLLM, Request.CHAT, payload), "served"))
    assert "max_tokens" not in unchanged  # without --max-tokens, the payload's own (none here)


def test_tei_embeddings_and_rerank_carry_their_texts():
    embed = build(target(Runtime.TEI, Request.EMBEDDINGS), "doc-embedder")
    assert (embed.path, embed.inputs, embed.streamed) == ("/v1/embeddings", len(SAMPLE_TEXTS), False)
    assert body(embed) == {"input": list(SAMPLE_TEXTS), "model": "doc-embedder"}
    one = build(target(Runtime.TEI, Request.EMBEDDINGS, '{"input": "one text"}'), None)
    assert one.inputs == 1 and body(one) == {"input": "one text"}  # TEI's model is optional
    rerank = build(target(Runtime.TEI, Request.RERANK, '{"query": "q", "texts": ["a", "b"]}'), "x")
    assert (rerank.path, rerank.inputs, body(rerank)) == ("/rerank", 2, {"query": "q", "texts": ["a", "b"]})


def test_our_container_gets_the_body_as_given():
    sent = build(target(Runtime.MODELFLEET, Request.INVOCATIONS, "1,2,3", content_type="text/csv"), None)
    assert (sent.path, sent.body, sent.headers["content-type"]) == ("/invocations", b"1,2,3", "text/csv")


@pytest.mark.parametrize(
    ("runtime", "request_kind", "payload", "message"),
    [
        (Runtime.VLLM, Request.CHAT, "not json", "--payload is not valid JSON"),
        (Runtime.VLLM, Request.CHAT, "[1]", "--payload must be a JSON object"),
        (Runtime.VLLM, Request.CHAT, '{"prompt": "hi"}', "a chat --payload needs 'messages'"),
        (Runtime.TEI, Request.EMBEDDINGS, '{"input": []}', "an embeddings --payload needs 'input'"),
        (Runtime.TEI, Request.RERANK, '{"query": "q"}', "a rerank --payload needs 'query'"),
        (Runtime.MODELFLEET, Request.INVOCATIONS, None, "no request body: pass --payload"),
    ],
)
def test_a_payload_the_runtime_cannot_take_is_refused_before_sending(runtime, request_kind, payload, message):
    with pytest.raises(InvalidInput, match=message):
        build(target(runtime, request_kind, payload), "m")


def test_each_runtime_is_sent_its_first_request_unless_a_task_picks_another():
    assert request_for(Runtime.VLLM, None) is Request.CHAT
    assert request_for(Runtime.TEI, None) is Request.EMBEDDINGS
    assert request_for(Runtime.TEI, "rerank") is Request.RERANK
    assert request_for(Runtime.MODELFLEET, None) is Request.INVOCATIONS
    with pytest.raises(InvalidInput, match="runtime vllm answers chat requests only"):
        request_for(Runtime.VLLM, "rerank")


def test_a_dry_run_shows_a_long_body_cut():
    shown = body_text(build(target(Runtime.TEI, Request.EMBEDDINGS), None))
    assert len(shown) == 300 and shown.endswith("...")
