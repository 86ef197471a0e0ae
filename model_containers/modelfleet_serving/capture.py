"""Data capture on EKS: a sample of requests and their answers, written to S3 as SageMaker writes its own.

SageMaker captures for its endpoints; on EKS the server does, so that the drift job
(``infra/ops/drift/captures.py``) reads both alike. The request path only draws a
random number and appends references to the bodies it already holds to a bounded
buffer; when the buffer is full the record is dropped and counted. Encoding, JSON,
base64, logging and S3 all happen in one daemon thread per worker, which writes
every ``flush_seconds`` (sooner once ``FLUSH_AT_RECORDS`` wait) and once more at
shutdown: one object per flush and UTC hour,
``<prefix>yyyy/mm/dd/hh/<hostname>-<pid>-<uuid4 hex>.jsonl``, a record a line.

A write that fails is logged on one line and its records counted as failed: they
are never retried or kept, so memory stays bounded whatever S3 does.
"""

from __future__ import annotations

import base64
import logging
import os
import random
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any

import orjson

from modelfleet_serving import codecs, contract
from modelfleet_serving.config import CaptureSettings

log = logging.getLogger("modelfleet.serving.capture")

FLUSH_AT_RECORDS = 1000  # a flush starts this soon, whatever flush_seconds says
MAX_BUFFER_BYTES = 64 * 1024 * 1024  # bodies held per worker (being written included): 6 MiB payloads add up
# Encoding holds the GIL (~5 us a record): in slices of ~0.5 ms, rather than the 5 ms switch interval.
ENCODE_SLICE_RECORDS = 100
ENCODE_PAUSE_SECONDS = 0.0002
SHUTDOWN_SECONDS = 3.0  # the last flush's wait: the pod's grace period leaves 5 s after the drain
TEXT_ENCODINGS = {
    **dict.fromkeys(contract.CAPTURE_CSV_CONTENT_TYPES, "CSV"),
    **dict.fromkeys(contract.CAPTURE_JSON_CONTENT_TYPES, "JSON"),
}
WRITTEN, DROPPED, FAILED = contract.CAPTURE_OUTCOMES

# (unix time, request content type, request body, response content type, response body)
Record = tuple[float, str, bytes, str, bytes]


def _body(mode: str, content_type: str, data: bytes) -> dict[str, str]:
    """One side of a record: text for the CSV and JSON content types, base64 for anything else."""
    encoding = TEXT_ENCODINGS.get(codecs.media_type(content_type))
    if encoding is not None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:  # JSON cannot carry these bytes as text
            pass
        else:
            return {"observedContentType": content_type, "mode": mode, "data": text, "encoding": encoding}
    return {
        "observedContentType": content_type,
        "mode": mode,
        "data": base64.b64encode(data).decode("ascii"),
        "encoding": "BASE64",
    }


def event_ids(count: int) -> list[str]:
    """``count`` random UUIDs (version 4) from one read of the OS's random source, not one a record."""
    random_bytes = os.urandom(16 * count)
    ids = []
    for i in range(0, 16 * count, 16):
        h = random_bytes[i : i + 16].hex()
        variant = "89ab"[random_bytes[i + 8] & 3]
        ids.append(f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:]}")
    return ids


def encode(record: Record, event_id: str, inference_time: str) -> bytes:
    """One record as one line of SageMaker's capture format (without the newline)."""
    _, request_type, request, response_type, response = record
    return orjson.dumps(
        {
            "captureData": {
                "endpointInput": _body("INPUT", request_type or codecs.media_type(request_type), request),
                "endpointOutput": _body("OUTPUT", response_type, response),
            },
            "eventMetadata": {"eventId": event_id, "inferenceTime": inference_time},
            "eventVersion": "0",
        }
    )


def by_hour(records: list[Record]) -> dict[str, list[bytes]]:
    """Encoded records by the UTC hour folder of their inference time, ``yyyy/mm/dd/hh``."""
    hours: dict[str, list[bytes]] = {}
    seconds: dict[int, tuple[str, str]] = {}  # a flush's records share their seconds: format each once
    for record, event_id in zip(records, event_ids(len(records)), strict=True):
        second = int(record[0])
        if (formatted := seconds.get(second)) is None:
            utc = time.gmtime(second)
            formatted = seconds[second] = (
                time.strftime("%Y-%m-%dT%H:%M:%SZ", utc),
                time.strftime("%Y/%m/%d/%H", utc),
            )
        inference_time, hour = formatted
        hours.setdefault(hour, []).append(encode(record, event_id, inference_time))
    return hours


def object_key(prefix: str, hour: str) -> str:
    """A key no other worker, pod or flush writes: host and process, then a random part."""
    return f"{prefix}{hour}/{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex}.jsonl"


def s3_client() -> Any:
    """S3 as boto3 configures it from the environment (region, EKS Pod Identity); imported only now."""
    import boto3  # noqa: PLC0415 - only when capture is on
    from botocore.config import Config  # noqa: PLC0415

    timeouts = Config(connect_timeout=2, read_timeout=10, retries={"max_attempts": 3, "mode": "standard"})
    return boto3.client("s3", config=timeouts)


class Capture:
    """One worker's capture: ``offer`` on the request path, ``flush`` in the flusher thread."""

    def __init__(
        self,
        settings: CaptureSettings,
        records_counter: Any,
        client_factory: Callable[[], Any] = s3_client,
    ):
        self.settings = settings
        self.records_counter = records_counter  # a Counter with an "outcome" label
        self.client_factory = client_factory
        self.client: Any = None
        self._fraction = settings.percent / 100  # random() < 1.0 always: 100 % captures every answer
        self._random = random.random
        self._records: deque[Record] = deque()
        self._max_records = settings.max_buffer_records
        self._flush_at = min(FLUSH_AT_RECORDS, settings.max_buffer_records)
        # Each counter has one writer, so neither thread needs a lock: the request path writes the
        # first two, the flusher the last two.
        self._bytes_in = 0
        self.dropped = 0
        self._bytes_out = 0
        self._dropped_counted = 0
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None

    # The request path: no encoding, no I/O, no lock --------------------------------
    def offer(self, request_type: str, request: bytes, response_type: str, response: bytes) -> None:
        if self._random() >= self._fraction:
            return
        size = len(request) + len(response)
        records = self._records
        if len(records) >= self._max_records or self._bytes_in - self._bytes_out + size > MAX_BUFFER_BYTES:
            self.dropped += 1
            if not self._wake.is_set():  # counted at the next flush: make it soon
                self._wake.set()
            return
        self._bytes_in += size
        records.append((time.time(), request_type, request, response_type, response))
        if len(records) >= self._flush_at and not self._wake.is_set():
            self._wake.set()

    # The flusher thread ----------------------------------------------------------------
    def start(self) -> None:
        for outcome in contract.CAPTURE_OUTCOMES:  # every outcome is scraped from the start, at 0
            self.records_counter.labels(outcome)
        self._thread = threading.Thread(target=self._run, name="capture-flush", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = SHUTDOWN_SECONDS) -> None:
        """One last flush of what the buffer holds, waited for at most ``timeout`` seconds."""
        if self._thread is None:
            return
        self._stopping = True
        self._wake.set()
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("capture: the last flush did not finish in time", extra={"seconds": timeout})

    def _run(self) -> None:
        self._connect()
        while True:
            self._wake.wait(self.settings.flush_seconds)
            self._wake.clear()
            stopping = self._stopping  # read before flushing: that flush holds every record offered
            self.flush()
            if stopping:
                return

    def _connect(self) -> bool:
        if self.client is None:
            try:
                self.client = self.client_factory()
            except Exception as exc:  # retried at the next flush; this one's records fail
                log.warning("capture: no S3 client", extra={"error": f"{type(exc).__name__}: {exc}"})
        return self.client is not None

    def flush(self) -> None:
        """Write what the buffer holds now: one object per hour folder; failures counted, never retried."""
        dropped = self.dropped
        self._count(DROPPED, dropped - self._dropped_counted)
        self._dropped_counted = dropped
        records = [self._records.popleft() for _ in range(len(self._records))]
        if not records:
            return
        try:
            connected = self._connect()
            hours: dict[str, list[bytes]] = {}
            for start in range(0, len(records), ENCODE_SLICE_RECORDS):
                if start:  # a short sleep hands the event loop the GIL: no request waits on a whole batch
                    time.sleep(ENCODE_PAUSE_SECONDS)
                for hour, lines in by_hour(records[start : start + ENCODE_SLICE_RECORDS]).items():
                    hours.setdefault(hour, []).extend(lines)
            for hour, lines in hours.items():
                if connected and self._put(object_key(self.settings.prefix, hour), lines):
                    self._count(WRITTEN, len(lines))
                else:
                    self._count(FAILED, len(lines))
        finally:
            self._bytes_out += sum(len(r[2]) + len(r[4]) for r in records)

    def _put(self, key: str, lines: list[bytes]) -> bool:
        # With a key: SSE-KMS under it. Without one, no header, so the bucket's default encryption
        # applies: S3 takes "aws:kms" without a key id as the AWS managed key aws/s3, not the bucket's.
        encryption = {}
        if self.settings.kms_key_id:
            encryption = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.settings.kms_key_id}
        try:
            self.client.put_object(
                Bucket=self.settings.bucket,
                Key=key,
                Body=b"\n".join(lines) + b"\n",
                ContentType="application/jsonlines",
                **encryption,
            )
        except Exception as exc:  # any failure: one line, no traceback; the batch is dropped
            error = f"{type(exc).__name__}: {exc}"
            log.warning("capture write failed", extra={"key": key, "records": len(lines), "error": error})
            return False
        return True

    def _count(self, outcome: str, records: int) -> None:
        if records:
            self.records_counter.labels(outcome).inc(records)
