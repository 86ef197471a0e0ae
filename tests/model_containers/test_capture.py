"""Data capture without a server or S3: settings, sampling, the buffer's bounds, the records' format, the keys."""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import random
import re
import socket
import threading
import time
import uuid
from calendar import timegm

import numpy as np
import pytest
from modelfleet_serving import capture as capturing
from modelfleet_serving.capture import Capture
from modelfleet_serving.config import CaptureSettings, ConfigError
from prometheus_client import CollectorRegistry, Counter

from infra.ops.drift import captures as drift_reader

PREFIX = "fraud-scorer/eks/canary/"
SETTINGS = CaptureSettings(percent=100, bucket="capture-bucket", prefix=PREFIX)
CSV_ROW = b"1.5,DE,3"
JSON_BODY = b'{"instances": [[1.5, "DE", 3]]}'
COLUMNS = ["amount", "country", "age"]


class FakeS3:
    """``put_object`` that records its calls, fails with ``error``, or waits ``delay`` seconds first."""

    def __init__(self, error: Exception | None = None, delay: float = 0.0):
        self.error, self.delay = error, delay
        self.puts: list[dict] = []
        self.put_done = threading.Event()

    def put_object(self, **kwargs) -> None:
        time.sleep(self.delay)
        if self.error is not None:
            raise self.error
        self.puts.append(kwargs)
        self.put_done.set()


def make_capture(s3: FakeS3 | None = None, **settings) -> tuple[Capture, CollectorRegistry, FakeS3]:
    registry = CollectorRegistry()
    counter = Counter("capture_records", "", ["outcome"], registry=registry)
    s3 = s3 or FakeS3()
    fields = {"percent": 100, "bucket": "capture-bucket", "prefix": PREFIX, **settings}
    return Capture(CaptureSettings(**fields), counter, lambda: s3), registry, s3


def counts(registry: CollectorRegistry) -> dict[str, float]:
    return {
        s.labels["outcome"]: s.value
        for family in registry.collect()
        for s in family.samples
        if s.name.endswith("_total")
    }


def lines(put: dict) -> list[dict]:
    return [json.loads(line) for line in put["Body"].decode().splitlines()]


def encoded(record: capturing.Record) -> dict:
    """One record through the flusher's encoding, decoded again."""
    ((line,),) = capturing.by_hour([record]).values()
    return json.loads(line)


def at(stamp: str) -> float:
    return timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%S"))


# Settings ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "environ", [{}, {"MODELFLEET_CAPTURE_PERCENT": "0"}, {"MODELFLEET_CAPTURE_PERCENT": " "}]
)
def test_capture_is_off_unless_a_percent_is_set(environ):
    assert CaptureSettings.from_env(environ) is None


def test_settings_come_from_the_environment():
    settings = CaptureSettings.from_env({
        "MODELFLEET_CAPTURE_PERCENT": "12.5",
        "MODELFLEET_CAPTURE_BUCKET": "capture-bucket",
        "MODELFLEET_CAPTURE_PREFIX": PREFIX,
        "MODELFLEET_CAPTURE_KMS_KEY_ID": "alias/capture",
        "MODELFLEET_CAPTURE_FLUSH_SECONDS": "30",
        "MODELFLEET_CAPTURE_MAX_BUFFER": "500",
    })  # fmt: skip
    assert settings == CaptureSettings(12.5, "capture-bucket", PREFIX, "alias/capture", 30.0, 500)
    defaults = CaptureSettings.from_env({
        "MODELFLEET_CAPTURE_PERCENT": "100", "MODELFLEET_CAPTURE_BUCKET": "b", "MODELFLEET_CAPTURE_PREFIX": "m/"
    })  # fmt: skip
    assert (defaults.flush_seconds, defaults.max_buffer_records, defaults.kms_key_id) == (60.0, 10_000, None)


@pytest.mark.parametrize("percent", ["abc", "150", "-1", "nan", "inf", "10%"])
def test_a_percent_out_of_range_is_a_config_error(percent):
    with pytest.raises(
        ConfigError,
        match=rf"MODELFLEET_CAPTURE_PERCENT must be a number from 0 to 100 \(got '{re.escape(percent)}'\)",
    ):
        CaptureSettings.from_env({"MODELFLEET_CAPTURE_PERCENT": percent})


def test_every_bad_setting_is_named_at_once():
    with pytest.raises(ConfigError) as raised:
        CaptureSettings.from_env({
            "MODELFLEET_CAPTURE_PERCENT": "5",
            "MODELFLEET_CAPTURE_PREFIX": "fraud-scorer/eks",
            "MODELFLEET_CAPTURE_FLUSH_SECONDS": "0",
            "MODELFLEET_CAPTURE_MAX_BUFFER": "2.5",
        })  # fmt: skip
    message = str(raised.value)
    assert "MODELFLEET_CAPTURE_BUCKET is required" in message
    assert "MODELFLEET_CAPTURE_PREFIX must be a key prefix ending in '/'" in message
    assert "MODELFLEET_CAPTURE_FLUSH_SECONDS must be a number" in message
    assert "MODELFLEET_CAPTURE_MAX_BUFFER must be a whole number" in message


# The request path ----------------------------------------------------------------------------


def test_zero_percent_never_captures_and_a_hundred_always_does():
    never, _, _ = make_capture(percent=0.0)
    always, _, _ = make_capture(percent=100.0)
    for _ in range(10_000):
        never.offer("text/csv", CSV_ROW, "text/csv", b"0.1")
        always.offer("text/csv", CSV_ROW, "text/csv", b"0.1")
    assert (len(never._records), never.dropped) == (0, 0)
    assert len(always._records) == 10_000


def test_a_percent_samples_about_that_share():
    sampled, _, _ = make_capture(percent=25.0)
    sampled._random = random.Random(7).random
    for _ in range(20_000):
        sampled.offer("text/csv", CSV_ROW, "text/csv", b"0.1")
    assert 4_600 < len(sampled._records) < 5_400


def test_an_offer_keeps_the_bodies_themselves_not_copies_or_encodings(monkeypatch):
    monkeypatch.setattr(capturing, "encode", lambda *args: pytest.fail("encoded on the request path"))
    capture, _, _ = make_capture()
    request, response = bytes(range(256)), b'{"predictions": [1]}'
    capture.offer("application/octet-stream", request, "application/json", response)
    (record,) = capture._records
    assert record[2] is request and record[4] is response


def test_a_full_buffer_drops_and_counts_then_flushes(monkeypatch):
    capture, registry, s3 = make_capture(max_buffer_records=5)
    for _ in range(8):
        capture.offer("text/csv", CSV_ROW, "text/csv", b"0.1")
    assert (len(capture._records), capture.dropped) == (5, 3)
    assert capture._wake.is_set()  # a full buffer asks for a flush at once
    capture.flush()
    assert counts(registry) == {"dropped": 3, "written": 5}
    capture.offer("text/csv", CSV_ROW, "text/csv", b"0.1")  # room again
    capture.flush()
    assert counts(registry) == {"dropped": 3, "written": 6}
    assert len(s3.puts) == 2


def test_the_buffer_is_bounded_in_bytes_too(monkeypatch):
    monkeypatch.setattr(capturing, "MAX_BUFFER_BYTES", 1000)
    capture, _, _ = make_capture()
    for _ in range(3):
        capture.offer("application/octet-stream", b"x" * 400, "application/json", b"[1]")
    assert (len(capture._records), capture.dropped) == (2, 1)
    capture.flush()  # written: the room is back
    capture.offer("application/octet-stream", b"x" * 400, "application/json", b"[1]")
    assert (len(capture._records), capture.dropped) == (1, 1)


def test_a_thousand_waiting_records_wake_the_flusher():
    capture, _, _ = make_capture()
    for _ in range(capturing.FLUSH_AT_RECORDS - 1):
        capture.offer("text/csv", CSV_ROW, "text/csv", b"0.1")
    assert not capture._wake.is_set()
    capture.offer("text/csv", CSV_ROW, "text/csv", b"0.1")
    assert capture._wake.is_set()


# The records' format ------------------------------------------------------------------------------


def test_csv_and_json_are_captured_as_text_as_sagemaker_does():
    record = encoded(
        (at("2026-12-03T10:15:02"), "text/csv", CSV_ROW, "application/json", b'{"predictions": [0.1]}')
    )
    assert record["captureData"] == {
        "endpointInput": {
            "observedContentType": "text/csv",
            "mode": "INPUT",
            "data": "1.5,DE,3",
            "encoding": "CSV",
        },
        "endpointOutput": {
            "observedContentType": "application/json",
            "mode": "OUTPUT",
            "data": '{"predictions": [0.1]}',
            "encoding": "JSON",
        },
    }
    assert record["eventMetadata"]["inferenceTime"] == "2026-12-03T10:15:02Z"
    assert uuid.UUID(record["eventMetadata"]["eventId"]).version == 4
    assert record["eventVersion"] == "0"


def test_other_content_types_and_text_that_is_not_utf8_are_base64():
    buffer = io.BytesIO()
    np.save(buffer, np.array([[1.5, 2.0]]))
    npy, latin = buffer.getvalue(), "1.5,Düsseldorf".encode("latin-1")
    for content_type, body in [
        ("application/x-npy", npy),
        ("application/jsonlines", b'{"a": 1}'),
        ("text/csv", latin),
    ]:
        endpoint_input = encoded((0.0, content_type, body, "text/csv", b"0.1"))["captureData"][
            "endpointInput"
        ]
        assert (
            endpoint_input["encoding"] == "BASE64" and endpoint_input["observedContentType"] == content_type
        )
        assert base64.b64decode(endpoint_input["data"]) == body


def test_the_observed_content_type_is_the_header_and_no_header_is_json():
    with_charset = encoded((0.0, "text/csv; charset=utf-8", CSV_ROW, "text/csv", b"0.1"))
    assert with_charset["captureData"]["endpointInput"]["encoding"] == "CSV"
    assert with_charset["captureData"]["endpointInput"]["observedContentType"] == "text/csv; charset=utf-8"
    bare = encoded((0.0, "", JSON_BODY, "application/json", b"[1]"))
    assert bare["captureData"]["endpointInput"]["observedContentType"] == "application/json"
    assert bare["captureData"]["endpointInput"]["encoding"] == "JSON"


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/csv", CSV_ROW),
        ("application/json", JSON_BODY),
        ("application/json; charset=utf-8", b'{"instances": [{"amount": 1.5, "country": "DE", "age": 3}]}'),
        ("application/jsonlines", b'{"amount": 1.5, "country": "DE", "age": 3}\n'),
    ],
)
def test_the_drift_job_reads_the_features_of_what_is_captured(content_type, body):
    endpoint_input = encoded((0.0, content_type, body, "application/json", b"[1]"))
    rows = drift_reader.payload_rows(endpoint_input["captureData"]["endpointInput"], COLUMNS)
    assert [[str(row[c]) for c in COLUMNS] for row in rows] == [["1.5", "DE", "3"]]


# Writing -------------------------------------------------------------------------------------


def test_event_ids_are_distinct_random_uuids():
    ids = capturing.event_ids(1000)
    assert len(set(ids)) == 1000
    assert {(uuid.UUID(i).version, uuid.UUID(i).variant, str(uuid.UUID(i)) == i) for i in ids} == {
        (4, uuid.RFC_4122, True)
    }


def test_one_object_per_flush_and_utc_hour_under_the_prefix_encrypted_with_kms():
    capture, registry, s3 = make_capture(kms_key_id="alias/capture")
    for stamp in ("2026-12-03T10:59:59", "2026-12-03T11:00:00", "2026-12-03T10:15:02", "2026-12-03T11:30:00"):
        capture._records.append((at(stamp), "text/csv", CSV_ROW, "text/csv", b"0.1"))
    capture.flush()
    key = re.compile(
        rf"^{PREFIX}2026/12/03/(10|11)/{re.escape(socket.gethostname())}-{os.getpid()}-[0-9a-f]{{32}}\.jsonl$"
    )
    assert all(key.match(put["Key"]) for put in s3.puts), [put["Key"] for put in s3.puts]
    by_hour = {put["Key"].split("/")[6]: lines(put) for put in s3.puts}
    assert {h: [r["eventMetadata"]["inferenceTime"][11:] for r in recs] for h, recs in by_hour.items()} == {
        "10": ["10:59:59Z", "10:15:02Z"],
        "11": ["11:00:00Z", "11:30:00Z"],
    }
    assert {(p["Bucket"], p["ServerSideEncryption"], p["SSEKMSKeyId"]) for p in s3.puts} == {
        ("capture-bucket", "aws:kms", "alias/capture")
    }
    assert counts(registry) == {"written": 4}


def test_a_flush_encoded_in_slices_still_writes_one_object_per_hour():
    capture, registry, s3 = make_capture()
    count = 2 * capturing.ENCODE_SLICE_RECORDS + 50
    for i in range(count):
        stamp = "2026-12-03T10:59:59" if i % 2 else "2026-12-03T11:00:00"
        capture._records.append((at(stamp), "text/csv", CSV_ROW, "text/csv", b"0.1"))
    capture.flush()
    assert sorted(len(lines(put)) for put in s3.puts) == [count // 2, count // 2]
    assert counts(registry) == {"written": count}


def test_without_a_key_id_no_encryption_header_is_sent_so_the_buckets_default_key_applies():
    """S3 reads ServerSideEncryption=aws:kms without a key id as the AWS managed key aws/s3."""
    capture, _, s3 = make_capture()
    capture.offer("text/csv", CSV_ROW, "text/csv", b"0.1")
    capture.flush()
    (put,) = s3.puts
    assert "ServerSideEncryption" not in put and "SSEKMSKeyId" not in put


def test_a_failed_write_is_one_log_line_counted_and_dropped(caplog):
    capture, registry, _ = make_capture(FakeS3(error=RuntimeError("NoSuchBucket: the bucket does not exist")))
    for _ in range(3):
        capture.offer("text/csv", CSV_ROW, "text/csv", b"0.1")
    with caplog.at_level(logging.WARNING, logger="modelfleet.serving.capture"):
        capture.flush()
        capture.flush()  # nothing kept to retry
    (logged,) = caplog.records
    assert logged.getMessage() == "capture write failed" and logged.exc_info is None
    assert "NoSuchBucket" in logged.error and logged.records == 3
    assert counts(registry) == {"failed": 3}
    assert (len(capture._records), capture._bytes_in - capture._bytes_out) == (0, 0)


def test_no_s3_client_fails_the_batch_and_is_tried_again_next_flush():
    registry = CollectorRegistry()
    counter = Counter("capture_records", "", ["outcome"], registry=registry)
    s3, attempts = FakeS3(), []

    def factory():
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("no credentials")
        return s3

    capture = Capture(SETTINGS, counter, factory)
    capture.offer("text/csv", CSV_ROW, "text/csv", b"0.1")
    capture.flush()
    capture.offer("text/csv", CSV_ROW, "text/csv", b"0.1")
    capture.flush()
    assert counts(registry) == {"failed": 1, "written": 1} and len(attempts) == 2


# The flusher thread -----------------------------------------------------------------------------


def test_the_flusher_writes_when_a_thousand_wait_and_at_stop():
    capture, registry, s3 = make_capture(flush_seconds=3600)
    capture.start()
    for _ in range(capturing.FLUSH_AT_RECORDS):
        capture.offer("text/csv", CSV_ROW, "text/csv", b"0.1")
    assert s3.put_done.wait(10), "a thousand waiting records did not start a flush"
    capture.offer("text/csv", CSV_ROW, "text/csv", b"0.1")
    capture.stop()
    assert sum(len(lines(put)) for put in s3.puts) == capturing.FLUSH_AT_RECORDS + 1
    assert counts(registry) == {"written": capturing.FLUSH_AT_RECORDS + 1, "dropped": 0, "failed": 0}


def test_the_flusher_writes_every_flush_seconds():
    capture, _, s3 = make_capture(flush_seconds=0.05)
    capture.start()
    try:
        capture.offer("text/csv", CSV_ROW, "text/csv", b"0.1")
        assert s3.put_done.wait(10)
    finally:
        capture.stop()


def test_stop_waits_for_the_last_flush_only_so_long():
    capture, _, _ = make_capture(FakeS3(delay=5), flush_seconds=3600)
    capture.start()
    capture.offer("text/csv", CSV_ROW, "text/csv", b"0.1")
    started = time.monotonic()
    capture.stop(timeout=0.2)
    assert time.monotonic() - started < 2
