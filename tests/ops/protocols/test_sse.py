"""Server-sent events and a streamed chat completion's token timing, on times the test chooses."""

from __future__ import annotations

import json

import pytest

from infra.ops.protocols.sse import MAX_PENDING_BYTES, ChatStream, EventParser, EventStreamError


def chunk(text: str | None = None, usage: dict | None = None, **delta: str) -> str:
    """A chat.completion.chunk as vLLM streams it."""
    if text is not None:
        delta["content"] = text
    choices = [] if usage else [{"index": 0, "delta": delta, "finish_reason": None}]
    document = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": choices}
    return json.dumps(document | ({"usage": usage} if usage else {}))


STREAM = (
    f"data: {chunk(role='assistant', text='')}\n\n"
    f"data: {chunk('Hello')}\n\n: keep-alive\n\n"
    f"data: {chunk(' there')}\r\n\r\n"
    f"data: {chunk(usage={'prompt_tokens': 7, 'completion_tokens': 2, 'total_tokens': 9})}\n\n"
    "data: [DONE]\n\n"
).encode()


def test_events_are_the_same_however_the_bytes_are_split():
    whole = EventParser().feed(STREAM)
    parser = EventParser()
    byte_by_byte = [event for i in range(len(STREAM)) for event in parser.feed(STREAM[i : i + 1])]
    assert byte_by_byte == whole
    assert len(whole) == 5 and whole[-1] == "[DONE]"


def test_an_event_is_complete_only_at_its_blank_line_and_joins_its_data_lines():
    parser = EventParser()
    assert parser.feed(b"data: a\ndata: b\nid: 7\n") == []
    assert parser.feed(b"\n") == ["a\nb"]
    assert parser.feed(b"event: ping\n\n") == []  # no data: no event to hand on


def test_a_stream_without_line_ends_is_refused_not_buffered_without_bound():
    with pytest.raises(EventStreamError):
        EventParser().feed(b"x" * (MAX_PENDING_BYTES + 1))


def fed(events: list[tuple[str, float]], sent_at: float = 10.0) -> ChatStream:
    stream = ChatStream(sent_at)
    for data, at in events:
        stream.on_event(data, at)
    return stream


def test_time_to_first_token_and_inter_token_latency_come_from_the_chunks_with_text():
    stream = fed([
        (chunk(role="assistant", text=""), 10.05),  # the role comes first, and is no token
        (chunk("Hel"), 10.30),
        (chunk("lo"), 10.35),
        (chunk(" there"), 10.45),
        (chunk(usage={"prompt_tokens": 7, "completion_tokens": 3}), 10.46),
        ("[DONE]", 10.46),
    ])  # fmt: skip
    assert stream.finish() == []
    assert stream.time_to_first_token == pytest.approx(0.30)
    assert stream.token_gaps == pytest.approx([0.05, 0.10])
    assert (stream.output_tokens, stream.prompt_tokens, stream.tokens_from) == (3, 7, "usage")


def test_without_usage_the_tokens_are_the_chunks_with_text():
    stream = fed([(chunk("a"), 10.1), (chunk("b"), 10.1), ("[DONE]", 10.2)])
    assert (stream.output_tokens, stream.tokens_from, stream.prompt_tokens) == (2, "chunks", None)
    assert stream.token_gaps == [0.0]  # arrived in one read: together


def test_a_reasoning_models_thinking_is_output_too():
    stream = fed([(chunk(reasoning="hmm"), 10.2), (chunk(reasoning_content="so"), 10.3), ("[DONE]", 10.3)])
    assert stream.time_to_first_token == pytest.approx(0.2) and stream.output_tokens == 2


@pytest.mark.parametrize(
    ("events", "problem"),
    [
        ([(chunk("a"), 10.1)], "the stream ended without data: [DONE]"),
        ([(chunk(role="assistant", text=""), 10.1), ("[DONE]", 10.2)], "no text in the stream"),
        ([("{not json", 10.1), ("[DONE]", 10.2)], "an event is not JSON: '{not json'"),
        ([(json.dumps({"error": {"message": "out of KV cache"}}), 10.1), ("[DONE]", 10.2)],
         "error in the stream: out of KV cache"),
        ([(json.dumps({"object": "error", "message": "bad"}), 10.1), ("[DONE]", 10.2)],
         "error in the stream: bad"),
        ([(json.dumps({"id": "x"}), 10.1), ("[DONE]", 10.2)], "a chunk lacks 'choices'"),
        ([(chunk("a"), 10.1), ("[DONE]", 10.2), (chunk("b"), 10.3)], "data after [DONE]"),
    ],
)  # fmt: skip
def test_a_broken_stream_says_what_is_wrong(events, problem):
    assert problem in fed(events).finish()


def lmi_chunk(text: str, finish_reason: str | None = None) -> str:
    """A chat.completion.chunk as LMI's vLLM handler writes it on SageMaker: one JSON line."""
    choice = {"index": 0, "delta": {"content": text}, "logprobs": None, "finish_reason": finish_reason}
    return json.dumps({"id": "chatcmpl-9", "object": "chat.completion.chunk", "choices": [choice]})


JSON_LINES = (
    f"{lmi_chunk('Hi')}\n{lmi_chunk(' there', 'length')}\n"
    f"{chunk(usage={'prompt_tokens': 4, 'completion_tokens': 2, 'total_tokens': 6})}\n"
).encode()


def test_json_lines_are_events_of_their_own_however_the_bytes_are_split():
    whole = EventParser(json_lines=True).feed(JSON_LINES)
    parser = EventParser(json_lines=True)
    byte_by_byte = [event for i in range(len(JSON_LINES)) for event in parser.feed(JSON_LINES[i : i + 1])]
    assert byte_by_byte == whole and len(whole) == 3
    assert EventParser(json_lines=True).feed(STREAM) == EventParser().feed(STREAM)  # data: lines as ever
    assert EventParser().feed(JSON_LINES) == []  # not server-sent events


def test_a_json_lines_stream_ends_with_a_finish_reason_not_done():
    stream = ChatStream(10.0, json_lines=True)
    for at, data in zip((10.5, 10.7, 10.7), EventParser(json_lines=True).feed(JSON_LINES), strict=True):
        stream.on_event(data, at)
    assert stream.finish() == [] and stream.output_tokens == 2 and stream.tokens_from == "usage"
    assert stream.time_to_first_token == pytest.approx(0.5) and stream.token_gaps == [pytest.approx(0.2)]
    cut = ChatStream(10.0, json_lines=True)
    cut.on_event(lmi_chunk("Hi"), 10.5)
    assert cut.finish() == ["the stream ended before a chunk with a finish_reason"]
