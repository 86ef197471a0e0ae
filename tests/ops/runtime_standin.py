"""A stand-in for vLLM and Text Embeddings Inference on 127.0.0.1, for the day-2 tools' tests.

vLLM needs a GPU and TEI a model download, neither of which a test run has. This
server speaks their documented HTTP protocol instead, with timings a test sets:
- ``GET /v1/models``: ``{"object": "list", "data": [{"id": <served name>, ...}]}``;
- ``POST /v1/chat/completions`` with ``stream: true``: server-sent events, a first
  chunk with the assistant's role and no text, one chunk per token (``delta.content``),
  with ``stream_options.include_usage`` a last chunk with empty ``choices`` and
  ``usage``, then ``data: [DONE]``; the body goes out chunked, as uvicorn sends it;
- ``POST /v1/embeddings``: OpenAI's shape, one embedding per input, with ``usage``;
- ``POST /rerank``: ``[{"index": i, "score": s}, ...]``, best first;
- ``POST /invocations`` (our container's contract, for ``--runtime modelfleet``):
  ``{"predictions": [...]}``.
``Behaviour.fault`` breaks one part of that on purpose. The server binds port 0 and
reads its port back, so no other test worker can be handed the same one.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FAULTS = (
    "status-503",  # every POST answers 503 with a vLLM-style error body
    "no-done",  # the stream ends without data: [DONE]
    "bad-json",  # one chunk is not JSON
    "error-event",  # the stream carries an error event instead of tokens
    "not-a-stream",  # chat answers plain JSON instead of an event stream
    "wrong-count",  # one embedding or score fewer than inputs
    "ragged",  # embeddings of different lengths
)


@dataclass
class Behaviour:
    served_name: str = "standin-chat"
    tokens: int = 5  # per completion, at most max_tokens
    first_token_delay_seconds: float = 0.0
    token_delay_seconds: float = 0.0
    usage: bool = True  # honour stream_options.include_usage
    fault: str | None = None
    dimensions: int = 4
    seen: list[tuple[str, Any]] = field(default_factory=list)  # (path, body: its JSON, else its text)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as httpx pools connections
    server: _HttpServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send_json(self, status: int, document: Any) -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/v1/models":
            name = self.server.behaviour.served_name
            self._send_json(200, {"object": "list", "data": [{"id": name, "object": "model"}]})
        else:
            self._send_json(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("content-length", 0)))
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = raw.decode()
        behaviour = self.server.behaviour
        behaviour.seen.append((self.path, body))
        if behaviour.fault == "status-503":
            self._send_json(503, {"error": {"message": "the engine is overloaded", "code": 503}})
            return
        routes = {
            "/v1/chat/completions": self._chat, "/v1/embeddings": self._embed, "/rerank": self._rerank,
            "/invocations": lambda body, behaviour: self._send_json(200, {"predictions": [0.5]}),
        }  # fmt: skip
        if self.path not in routes:
            self._send_json(404, {"error": {"message": f"no route {self.path}"}})
            return
        routes[self.path](body, behaviour)

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _event(self, document: Any) -> None:
        self._chunk(
            b"data: " + (document if isinstance(document, bytes) else json.dumps(document).encode()) + b"\n\n"
        )

    def _chat(self, body: dict[str, Any], behaviour: Behaviour) -> None:
        if behaviour.fault == "not-a-stream":
            self._send_json(200, {"choices": [{"message": {"role": "assistant", "content": "hi"}}]})
            return
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": body.get("model")}
        self._event(base | {"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]})
        tokens = min(behaviour.tokens, int(body.get("max_tokens") or behaviour.tokens))
        time.sleep(behaviour.first_token_delay_seconds)
        for index in range(tokens):
            if index:
                time.sleep(behaviour.token_delay_seconds)
            if behaviour.fault == "error-event":
                self._event({"error": {"message": "out of KV cache", "code": 500}})
                break
            self._event(base | {"choices": [{"index": 0, "delta": {"content": f" t{index}"}}]})
            if behaviour.fault == "bad-json" and index == 0:
                self._event(b"{not json")
        wants_usage = (body.get("stream_options") or {}).get("include_usage")
        if behaviour.usage and wants_usage:
            usage = {"prompt_tokens": 12, "completion_tokens": tokens, "total_tokens": 12 + tokens}
            self._event(base | {"choices": [], "usage": usage})
        if behaviour.fault != "no-done":
            self._event(b"[DONE]")
        self._chunk(b"")  # the chunked body's end

    def _embed(self, body: dict[str, Any], behaviour: Behaviour) -> None:
        given = body.get("input")
        texts = [given] if isinstance(given, str) else list(given or [])
        count = len(texts) - (behaviour.fault == "wrong-count")
        data = [
            {"object": "embedding", "index": i,
             "embedding": [0.1] * (behaviour.dimensions + (behaviour.fault == "ragged" and i == 1))}
            for i in range(count)
        ]  # fmt: skip
        tokens = sum(len(t.split()) for t in texts)
        usage = {"prompt_tokens": tokens, "total_tokens": tokens}
        self._send_json(200, {"object": "list", "data": data, "model": body.get("model"), "usage": usage})

    def _rerank(self, body: dict[str, Any], behaviour: Behaviour) -> None:
        texts = body.get("texts") or []
        scores = [{"index": i, "score": 1.0 / (i + 1)} for i in range(len(texts))]
        self._send_json(200, scores[: len(scores) - (behaviour.fault == "wrong-count")])


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's backlog of 5 drops connections a load test opens at once, and the client's
    # retry a second later would show up as latency that no runtime has.
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (a test's timeout) is no error of the stand-in's; anything else is."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    behaviour: Behaviour


class RuntimeStandIn:
    """The stand-in, serving from a thread until ``stop``; ``behaviour`` may change between requests."""

    def __init__(self, behaviour: Behaviour | None = None):
        self._http = _HttpServer(("127.0.0.1", 0), _Handler)
        self._http.behaviour = behaviour or Behaviour()
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}"
        self._thread = threading.Thread(target=self._http.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.start()

    @property
    def behaviour(self) -> Behaviour:
        return self._http.behaviour

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(timeout=10)
