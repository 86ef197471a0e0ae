"""Captures in SageMaker's JSON-lines format, a sample dataset and its baseline, all in moto."""

from __future__ import annotations

import base64
import csv
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pytest
from moto import mock_aws

from infra.ops.drift import baseline as baselines
from infra.ops.drift import store

REGION = "eu-west-1"
MODEL = "fraud-scorer"
# The stack's capture bucket as Pulumi names it: the prefix and 26 characters of its own.
BUCKET = "modelfleet-dev-capture-20261203094512345600000001"
COLUMNS = ["amount", "age", "score", "country"]
COUNTRIES = (["DE", "FR", "IT"], [0.5, 0.3, 0.2])


@dataclass
class Aws:
    s3: Any
    cloudwatch: Any


@pytest.fixture
def aws() -> Iterator[Aws]:
    """moto, with the dev stack's capture bucket tagged as the stack tags it."""
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        make_bucket(s3, BUCKET, {"environment": "dev", "project": "modelfleet", "owner": "ml-platform"})
        yield Aws(s3, boto3.client("cloudwatch", region_name=REGION))


def make_bucket(s3: Any, name: str, tags: dict[str, str] | None = None) -> None:
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    if tags:
        tag_set = [{"Key": k, "Value": v} for k, v in tags.items()]
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tag_set})


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def rows(n: int, seed: int, shift: dict[str, float] | None = None, countries=COUNTRIES) -> list[dict]:
    """``n`` rows of the four features; ``shift`` adds to a numeric feature's values."""
    rng = np.random.default_rng(seed)
    shift = shift or {}
    amount = rng.normal(100, 20, n) + shift.get("amount", 0)
    age = rng.integers(18, 80, n) + shift.get("age", 0)
    score = rng.normal(0, 1, n) + shift.get("score", 0)
    country = rng.choice(countries[0], size=n, p=countries[1])
    return [
        {"amount": round(float(a), 2), "age": int(g), "score": round(float(s), 4), "country": str(c)}
        for a, g, s, c in zip(amount, age, score, country, strict=True)
    ]


def write_sample(path: Path, sample: list[dict]) -> Path:
    if path.suffix == ".csv":
        with path.open("w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(sample)
    else:
        path.write_text("".join(json.dumps(row) + "\n" for row in sample))
    return path


def upload_baseline(aws: Aws, tmp_path: Path, n: int = 3000) -> dict:
    built = baselines.build(write_sample(tmp_path / "sample.csv", rows(n, seed=1)))
    store.write_json(aws.s3, BUCKET, store.baseline_key(MODEL), built)
    return built


def csv_input(row: dict) -> dict:
    data = ",".join(str(row[c]) for c in COLUMNS)
    return {"observedContentType": "text/csv", "mode": "INPUT", "data": data, "encoding": "CSV"}


def json_input(body: Any, base64_encoded: bool = False) -> dict:
    text = json.dumps(body)
    if base64_encoded:
        return {"observedContentType": "application/json", "mode": "INPUT",
                "data": base64.b64encode(text.encode()).decode(), "encoding": "BASE64"}  # fmt: skip
    return {"observedContentType": "application/json", "mode": "INPUT", "data": text, "encoding": "JSON"}


def record(endpoint_input: dict, when: datetime) -> str:
    """One capture record, as SageMaker writes it: input, output and the event's metadata."""
    output = {"observedContentType": "text/csv", "mode": "OUTPUT", "data": "0.12", "encoding": "CSV"}
    return json.dumps({
        "captureData": {"endpointInput": endpoint_input, "endpointOutput": output},
        "eventMetadata": {"eventId": str(uuid.uuid4()), "inferenceTime": f"{when:%Y-%m-%dT%H:%M:%S}Z"},
        "eventVersion": "0",
    })  # fmt: skip


def put_sagemaker_captures(
    aws: Aws,
    lines: list[tuple[datetime, str]],
    endpoint: str = "modelfleet-dev-fraud-scorer",
    variant: str = "stable",
    per_file: int = 50,
) -> list[str]:
    """Records in SageMaker's layout: <model>/<endpoint>/<variant>/yyyy/mm/dd/hh/<file>.jsonl."""
    keys = []
    by_hour: dict[datetime, list[str]] = {}
    for when, line in lines:
        by_hour.setdefault(when.replace(minute=0, second=0, microsecond=0), []).append(line)
    for hour, hour_lines in by_hour.items():
        for i in range(0, len(hour_lines), per_file):
            key = f"{MODEL}/{endpoint}/{variant}/{hour:%Y/%m/%d/%H}/{hour:%M-%S}-{i:03d}-{uuid.uuid4()}.jsonl"
            aws.s3.put_object(Bucket=BUCKET, Key=key, Body="\n".join(hour_lines[i : i + per_file]) + "\n")
            keys.append(key)
    return keys


def spread(end: datetime, hours: float, n: int) -> list[datetime]:
    """``n`` times evenly inside the ``hours`` before ``end``."""
    step = timedelta(hours=hours) / (n + 1)
    return [end - timedelta(hours=hours) + step * (i + 1) for i in range(n)]
