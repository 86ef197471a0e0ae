"""A stand-in for SageMaker's runtime and an LMI inference component on 127.0.0.1.

boto3 reads ``InvokeEndpointWithResponseStream``'s answer as an AWS event stream
(``application/vnd.amazon.eventstream``), which moto does not serve, and a real
shared endpoint needs GPUs and an AWS account. This server speaks the wire
protocol instead, so that a boto3 client given its URL (``endpoint_url`` or
``AWS_ENDPOINT_URL``) and dummy credentials runs the real parsing path:
- ``POST /endpoints/<name>/invocations-response-stream``: 200 with the model's content type in
  ``X-Amzn-SageMaker-Content-Type`` and a chunked body of event-stream messages, each a prelude
  (total and header lengths, CRC32), headers (``:event-type PayloadPart``, ``:message-type event``,
  ``:content-type application/octet-stream``), the payload bytes and a CRC32 of the whole message;
- the payload is what LMI 0.38 with vLLM in async mode streams for a chat completion with
  ``"stream": true`` (djl-serving ``lmi_vllm/request_response_utils.py``,
  ``vllm_stream_output_formatter``): one ``chat.completion.chunk`` JSON object a line,
  ``application/jsonlines``, the first with the assistant's role, one token a chunk, the last
  token's chunk with its ``finish_reason``, then, when ``stream_options.include_usage`` asked,
  a chunk with empty ``choices`` and ``usage``; no ``[DONE]``. ``Behaviour.wire = "sse"`` sends
  the rolling-batch handlers' ``data: {...}`` events and ``data: [DONE]`` (``text/event-stream``);
- ``Behaviour.split`` cuts every line across two ``PayloadPart`` events, as SageMaker may;
- ``POST /`` with ``X-Amz-Target: SageMaker.DescribeInferenceComponent``: the component with
  ``RuntimeConfig.CurrentCopyCount`` (the control plane, on the same port).
``Behaviour.fault`` breaks one part on purpose. Port 0, read back: no other worker gets it.
"""

from __future__ import annotations

import binascii
import json
import struct
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FAULTS = (
    "model-error",  # 424 ModelError before any event, as when the container answers an error status
    "stream-error",  # a ModelStreamError exception event after the first token
    "no-finish",  # the stream stops before a chunk with a finish_reason
)
STREAM_PATH = "/endpoints/{}/invocations-response-stream"


def _header(name: str, value: str) -> bytes:
    raw = value.encode()
    return bytes([len(name)]) + name.encode() + b"\x07" + struct.pack(">H", len(raw)) + raw  # 7: string


def message(headers: dict[str, str], payload: bytes) -> bytes:
    """One event-stream message (botocore.eventstream's format): prelude, headers, payload, CRC32s."""
    encoded = b"".join(_header(name, value) for name, value in headers.items())
    prelude = struct.pack(">II", 12 + len(encoded) + len(payload) + 4, len(encoded))
    whole = prelude + struct.pack(">I", binascii.crc32(prelude)) + encoded + payload
    return whole + struct.pack(">I", binascii.crc32(whole))


def payload_part(data: bytes) -> bytes:
    return message(
        {":event-type": "PayloadPart", ":message-type": "event", ":content-type": "application/octet-stream"},
        data,
    )


@dataclass
class Behaviour:
    tokens: int = 5  # per completion, at most max_tokens
    first_token_delay_seconds: float = 0.0
    token_delay_seconds: float = 0.0
    usage: bool = True  # honour stream_options.include_usage
    wire: str = "jsonlines"  # or "sse"
    split: bool = False
    copies: int = 2  # CurrentCopyCount
    fault: str | None = None
    seen: list[tuple[str, dict[str, str], Any]] = field(default_factory=list)  # (path, headers, JSON body)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HttpServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send_json(self, status: int, document: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("content-type", "application/x-amz-json-1.1")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("content-length", 0)))
        behaviour = self.server.behaviour
        body = json.loads(raw or b"{}")
        behaviour.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        if self.headers.get("x-amz-target") == "SageMaker.DescribeInferenceComponent":
            name = body.get("InferenceComponentName")
            config = {"CopyCount": behaviour.copies, "DesiredCopyCount": behaviour.copies,
                      "CurrentCopyCount": behaviour.copies}  # fmt: skip
            self._send_json(200, {"InferenceComponentName": name, "RuntimeConfig": config,
                                  "InferenceComponentStatus": "InService"})  # fmt: skip
            return
        if not (self.path.startswith("/endpoints/") and self.path.endswith("/invocations-response-stream")):
            self._send_json(404, {"__type": "UnknownOperationException", "message": self.path})
            return
        if behaviour.fault == "model-error":
            self._send_json(
                424,
                {
                    "__type": "ModelError",
                    "message": "Received server error (500) from model",
                    "OriginalStatusCode": 500,
                },
                {"x-amzn-errortype": "ModelError"},
            )
            return
        self._stream(body, behaviour)

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _line(self, document: Any, behaviour: Behaviour) -> None:
        text = document if isinstance(document, bytes) else json.dumps(document).encode()
        line = (b"data: " + text + b"\n\n") if behaviour.wire == "sse" else text + b"\n"
        parts = [line[: len(line) // 2], line[len(line) // 2 :]] if behaviour.split else [line]
        for part in parts:
            self._chunk(payload_part(part))

    def _stream(self, body: dict[str, Any], behaviour: Behaviour) -> None:
        self.send_response(200)
        self.send_header("content-type", "application/vnd.amazon.eventstream")
        media = "text/event-stream" if behaviour.wire == "sse" else "application/jsonlines"
        self.send_header("x-amzn-sagemaker-content-type", media)
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        base = {"id": "chatcmpl-140", "object": "chat.completion.chunk", "created": 1764763200,
                "model": body.get("model", "lmi")}  # fmt: skip
        tokens = min(behaviour.tokens, int(body.get("max_tokens") or behaviour.tokens))
        time.sleep(behaviour.first_token_delay_seconds)
        for index in range(tokens):
            if index:
                time.sleep(behaviour.token_delay_seconds)
            if behaviour.fault == "stream-error" and index == 1:
                self._chunk(
                    message(
                        {":exception-type": "ModelStreamError", ":message-type": "exception",
                         ":content-type": "application/json"},
                        json.dumps({"Message": "CUDA out of memory", "ErrorCode": "ModelStreamError"}).encode(),
                    )
                )  # fmt: skip
                self._chunk(b"")
                return
            last = index == tokens - 1
            if last and behaviour.fault == "no-finish":
                break
            delta = {"content": f" t{index}"} | ({"role": "assistant"} if index == 0 else {})
            choice = {
                "index": 0,
                "delta": delta,
                "logprobs": None,
                "finish_reason": "length" if last else None,
            }
            self._line(base | {"choices": [choice]}, behaviour)
        if behaviour.usage and (body.get("stream_options") or {}).get("include_usage"):
            usage = {"prompt_tokens": 21, "completion_tokens": tokens, "total_tokens": 21 + tokens}
            self._line(base | {"choices": [], "usage": usage}, behaviour)
        if behaviour.wire == "sse":
            self._line(b"[DONE]", behaviour)
        self._chunk(b"")


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    behaviour: Behaviour

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class SageMakerStreamStandIn:
    """The stand-in, serving from a thread until ``stop``."""

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
