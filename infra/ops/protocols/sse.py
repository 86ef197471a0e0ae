"""Server-sent events as bytes arrive, and a streamed chat completion's tokens in time (pure).

OpenAI's streaming chat completions, vLLM's included, are ``data: {json}`` events,
each ended by a blank line: chunks whose ``choices[i].delta`` carries text, then,
when ``stream_options.include_usage`` asked for it, one chunk with empty
``choices`` and ``usage`` (``prompt_tokens``, ``completion_tokens``), then
``data: [DONE]``. An error while streaming arrives as an event too.

AWS's LMI container streams the same chunks on SageMaker as JSON lines
(``application/jsonlines``, one ``chat.completion.chunk`` a line, no ``[DONE]``:
``lmi_vllm.request_response_utils.vllm_stream_output_formatter`` strips vLLM's
``data:`` and drops ``[DONE]``); its rolling-batch handlers' ``sse`` formatter sends
``data:`` events instead. ``EventParser(json_lines=True)`` reads either, and such a
stream is complete once a chunk gave a ``finish_reason``.

The caller gives each event the time its network read arrived, so a test can hand
in any clock. Time to first token counts from the send to the first chunk with
text; inter-token latency is the gap between consecutive chunks with text. Chunks
that came in one read share its time (a gap of 0): they reached the client together.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

# Where a chunk's delta carries generated text: the answer, and a reasoning model's thinking,
# which vLLM streams as ``reasoning`` (formerly ``reasoning_content``) and which is output too.
TEXT_FIELDS = ("content", "reasoning", "reasoning_content")
MAX_PENDING_BYTES = 4 * 1024 * 1024  # an event this long without a line end is not an SSE stream
MAX_PROBLEMS = 5


class EventStreamError(ValueError):
    """The bytes cannot be server-sent events."""


class EventParser:
    """The ``data`` of each complete event in a byte stream; lines end with LF or CRLF.

    With ``json_lines``, a line that is a JSON object is an event of its own, as in
    ``application/jsonlines``; ``data:`` lines still make server-sent events.
    """

    def __init__(self, json_lines: bool = False) -> None:
        self._pending = b""
        self._data: list[str] = []
        self._json_lines = json_lines

    def feed(self, chunk: bytes) -> list[str]:
        """Events completed by ``chunk``, in order (an event's data lines joined with LF)."""
        self._pending += chunk
        *lines, self._pending = self._pending.split(b"\n")
        if len(self._pending) > MAX_PENDING_BYTES:
            raise EventStreamError(f"no line end in {len(self._pending)} bytes")
        events = []
        for raw in lines:
            line = raw.removesuffix(b"\r").decode("utf-8", errors="replace")
            if not line:
                if self._data:
                    events.append("\n".join(self._data))
                    self._data = []
            elif self._json_lines and not self._data and line.lstrip().startswith("{"):
                events.append(line.strip())
            elif not line.startswith(":"):  # ":..." is a comment, e.g. a keep-alive
                name, _, value = line.partition(":")
                if name == "data":
                    self._data.append(value.removeprefix(" "))
        return events


def _has_text(choice: Any) -> bool:
    delta = choice.get("delta") if isinstance(choice, dict) else None
    return isinstance(delta, dict) and any(isinstance(delta.get(f), str) and delta[f] for f in TEXT_FIELDS)


def _error_message(chunk: dict[str, Any]) -> str | None:
    """vLLM sends ``{"error": {...}}`` (older: the error object itself, ``"object": "error"``)."""
    error = chunk.get("error") if "error" in chunk else chunk if chunk.get("object") == "error" else None
    if error is None:
        return None
    return str(error.get("message") or error) if isinstance(error, dict) else str(error)


@dataclass
class ChatStream:
    """One streamed chat completion, fed event by event with arrival times (seconds, any clock)."""

    sent_at: float
    json_lines: bool = False  # LMI's application/jsonlines: no [DONE]; a finish_reason ends the answer
    token_times: list[float] = field(default_factory=list)  # arrival of each chunk with text
    usage: dict[str, Any] | None = None
    done: bool = False
    finished: bool = False  # a choice gave its finish_reason
    problems: list[str] = field(default_factory=list)

    def _problem(self, text: str) -> None:
        if text not in self.problems and len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)

    def on_event(self, data: str, at: float) -> None:
        if self.done:
            self._problem("data after [DONE]")
            return
        if data == "[DONE]":
            self.done = True
            return
        try:
            chunk = json.loads(data)
        except ValueError:
            self._problem(f"an event is not JSON: {data[:60]!r}")
            return
        if not isinstance(chunk, dict):
            self._problem("an event is not a JSON object")
            return
        message = _error_message(chunk)
        if message is not None:
            self._problem(f"error in the stream: {message}")
            return
        choices = chunk.get("choices")
        if not isinstance(choices, list):
            self._problem("a chunk lacks 'choices'")
            return
        if any(_has_text(choice) for choice in choices):
            self.token_times.append(at)
        if any(isinstance(choice, dict) and choice.get("finish_reason") for choice in choices):
            self.finished = True
        usage = chunk.get("usage")
        if isinstance(usage, dict) and isinstance(usage.get("completion_tokens"), int):
            self.usage = usage

    def finish(self) -> list[str]:
        """Every problem, once the stream has closed."""
        found = list(self.problems)
        if self.json_lines and not (self.done or self.finished):
            found.append("the stream ended before a chunk with a finish_reason")
        elif not self.json_lines and not self.done:
            found.append("the stream ended without data: [DONE]")
        if not self.token_times and not self.problems:
            found.append("no text in the stream")
        return found

    @property
    def time_to_first_token(self) -> float | None:
        return self.token_times[0] - self.sent_at if self.token_times else None

    @property
    def token_gaps(self) -> list[float]:
        """Inter-token latencies: the time between consecutive chunks with text."""
        return [b - a for a, b in itertools.pairwise(self.token_times)]

    @property
    def output_tokens(self) -> int:
        """``usage.completion_tokens`` when sent, else the chunks with text (vLLM: one token each)."""
        return int(self.usage["completion_tokens"]) if self.usage else len(self.token_times)

    @property
    def prompt_tokens(self) -> int | None:
        value = (self.usage or {}).get("prompt_tokens")
        return value if isinstance(value, int) else None

    @property
    def tokens_from(self) -> str:
        return "usage" if self.usage else "chunks"
