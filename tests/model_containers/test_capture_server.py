"""Data capture end to end: the real server on 127.0.0.1 writes to S3 (a moto server), the drift job reads it.

The moto server runs in this process on a port the kernel picks; the model server
reaches it through ``AWS_ENDPOINT_URL_S3``, as boto3 reads it.
"""

from __future__ import annotations

import io
import json
import re
import socket
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import httpx
import numpy as np
import pytest
from moto.server import ThreadedMotoServer
from prometheus_client.parser import text_string_to_metric_families

from infra.ops.drift import captures as drift_reader
from tests.model_containers.conftest import Server

REGION = "eu-west-1"
MODEL = "fraud-scorer"
PREFIX = f"{MODEL}/eks/canary/"
COLUMNS = [f"f{i}" for i in range(16)]  # the sklearn example's 16 features
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def client(service: str, url: str):
    return boto3.client(service, region_name=REGION, endpoint_url=url, **CREDENTIALS)


@pytest.fixture
def kms_bucket(moto_url) -> tuple[str, str]:
    """A bucket of its own, encrypted by default with a KMS key of its own, as the stack makes it."""
    key_id = client("kms", moto_url).create_key(Description="capture")["KeyMetadata"]["KeyId"]
    bucket = f"modelfleet-dev-capture-{uuid.uuid4().hex[:12]}"
    s3 = client("s3", moto_url)
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    rule = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_id}}
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [rule]})
    return bucket, key_id


def capturing(start_server, s3_url: str, bucket: str, **env: str) -> Server:
    server = start_server(
        MODELFLEET_CAPTURE_PERCENT="100",
        MODELFLEET_CAPTURE_BUCKET=bucket,
        MODELFLEET_CAPTURE_PREFIX=PREFIX,
        AWS_ENDPOINT_URL_S3=s3_url,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_REGION=REGION,
        AWS_EC2_METADATA_DISABLED="true",
        **env,
    )
    server.wait_until_ready()
    return server


def invoke(server: Server, body: bytes, content_type: str, accept: str | None = None) -> httpx.Response:
    headers = {"content-type": content_type, **({"accept": accept} if accept else {})}
    return httpx.post(f"{server.url}/invocations", content=body, headers=headers, timeout=30)


def capture_counts(server: Server) -> dict[str, float]:
    families = text_string_to_metric_families(httpx.get(f"{server.url}/metrics").text)
    return {
        s.labels["outcome"]: s.value
        for family in families
        if family.name == "modelfleet_capture_records"
        for s in family.samples
        if s.name.endswith("_total")
    }


def wait_for(condition, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def output(server: Server) -> str:
    return server.process.stdout.read().decode()


def test_what_the_server_captures_the_drift_job_reads(start_server, moto_url, kms_bucket):
    bucket, key_id = kms_bucket
    server = capturing(
        start_server,
        moto_url,
        bucket,
        MODELFLEET_CAPTURE_KMS_KEY_ID=key_id,
        MODELFLEET_CAPTURE_FLUSH_SECONDS="3600",  # only the flush at shutdown writes
        MODELFLEET_CACHE_ENTRIES="100",
    )
    rows = np.random.default_rng(3).standard_normal((9, 16)).round(4)
    sent = []
    for pair in (rows[0:2], rows[2:4], rows[4:6]):  # two rows a request, as CSV
        body = "\n".join(",".join(str(v) for v in row) for row in pair).encode()
        assert invoke(server, body, "text/csv", accept="text/csv").status_code == 200
        sent += pair.tolist()
    for row in rows[6:9]:  # one a request, as JSON
        assert (
            invoke(server, json.dumps({"instances": [row.tolist()]}).encode(), "application/json").status_code
            == 200
        )
        sent.append(row.tolist())
    repeated = invoke(server, json.dumps({"instances": [rows[8].tolist()]}).encode(), "application/json")
    assert repeated.headers["x-cache"] == "hit"  # an answer from the cache is captured too
    sent.append(rows[8].tolist())
    npy = io.BytesIO()
    np.save(npy, rows[:1])
    assert invoke(server, npy.getvalue(), "application/x-npy").status_code == 200  # BASE64: no features
    assert invoke(server, b"[[1, 2]]", "application/json").status_code == 400  # not a 200: not captured
    assert capture_counts(server) == {"written": 0, "dropped": 0, "failed": 0}

    assert server.stop() in (0, -15)
    s3 = client("s3", moto_url)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    hour_key = re.compile(rf"^{PREFIX}\d{{4}}/\d{{2}}/\d{{2}}/\d{{2}}/[\w.-]+-\d+-[0-9a-f]{{32}}\.jsonl$")
    assert keys and all(hour_key.match(k) for k in keys), keys
    for key in keys:
        head = s3.head_object(Bucket=bucket, Key=key)
        assert (head["ServerSideEncryption"], head["SSEKMSKeyId"].split("/")[-1]) == ("aws:kms", key_id)

    now = datetime.now(UTC)
    window = drift_reader.read_window(
        s3, bucket, MODEL, COLUMNS, COLUMNS, now - timedelta(hours=2), now + timedelta(minutes=1)
    )
    assert (window.records, window.undecodable, window.rows) == (8, 1, len(sent))
    for i, name in enumerate(COLUMNS):  # CSV values come back as text, JSON ones as numbers
        assert sorted(float(v) for v in window.values[name]) == sorted(row[i] for row in sent)

    records = [
        json.loads(line)
        for key in keys
        for line in s3.get_object(Bucket=bucket, Key=key)["Body"].read().splitlines()
    ]
    outputs = {r["captureData"]["endpointOutput"]["encoding"] for r in records}
    assert outputs == {"CSV", "JSON"}  # answers as the client got them: CSV when it asked for CSV


def test_the_server_flushes_every_flush_seconds_and_counts_written(start_server, moto_url, kms_bucket):
    bucket, _ = kms_bucket
    server = capturing(start_server, moto_url, bucket, MODELFLEET_CAPTURE_FLUSH_SECONDS="0.2")
    for _ in range(5):
        assert invoke(server, b"[" + b",".join([b"0.5"] * 16) + b"]", "application/json").status_code == 200
    wait_for(lambda: capture_counts(server).get("written") == 5)
    s3 = client("s3", moto_url)
    body = b"".join(
        s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
        for o in s3.list_objects_v2(Bucket=bucket)["Contents"]
    )
    assert len(body.splitlines()) == 5


def test_a_missing_bucket_fails_the_capture_never_the_request(start_server, moto_url):
    server = capturing(start_server, moto_url, "no-such-bucket", MODELFLEET_CAPTURE_FLUSH_SECONDS="0.2")
    for _ in range(20):
        assert invoke(server, b"[" + b",".join([b"0.5"] * 16) + b"]", "application/json").status_code == 200
    wait_for(lambda: capture_counts(server).get("failed") == 20)
    assert capture_counts(server)["written"] == 0
    assert server.stop() in (0, -15)
    logged = [json.loads(line) for line in output(server).splitlines() if "capture write failed" in line]
    assert logged and all("NoSuchBucket" in line["error"] and "exception" not in line for line in logged)


def test_s3_that_never_answers_slows_neither_requests_nor_shutdown_much(start_server):
    with socket.socket() as silent:  # accepts connections (the kernel's backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        server = capturing(start_server, url, "capture-bucket", MODELFLEET_CAPTURE_FLUSH_SECONDS="0.1")
        body = b"[" + b",".join([b"0.5"] * 16) + b"]"
        invoke(server, body, "application/json")
        time.sleep(0.5)  # the flusher is now waiting on S3
        slowest = 0.0
        for _ in range(50):
            started = time.monotonic()
            assert invoke(server, body, "application/json").status_code == 200
            slowest = max(slowest, time.monotonic() - started)
        # A put waits up to 10 s a try: a request that waited on one would take that long. The margin
        # is wide so a loaded machine's scheduling never decides the outcome.
        assert slowest < 5.0
        stopping = time.monotonic()
        assert server.stop() in (0, -15)
        # The last flush is waited for 3 s, then abandoned; waiting out the puts would take 3 x 10 s.
        assert time.monotonic() - stopping < 20


def test_an_invalid_capture_setting_stops_the_server_with_one_clear_line(examples):
    server = Server(examples / "sklearn", MODELFLEET_CAPTURE_PERCENT="150")
    try:
        assert server.process.wait(timeout=30) == 2
        (line,) = output(server).splitlines()
    finally:
        server.stop()
    logged = json.loads(line)
    assert logged["level"] == "error"
    assert logged["message"] == (
        "invalid settings: MODELFLEET_CAPTURE_PERCENT must be a number from 0 to 100 (got '150')"
    )
