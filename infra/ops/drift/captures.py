"""The captured requests of a time window: which objects hold them, and the features they carry.

Captures are JSON lines, one record per request, as SageMaker's data capture writes them::

    {"captureData": {"endpointInput": {"observedContentType": "text/csv", "mode": "INPUT",
                                       "data": "1.5,DE,3", "encoding": "CSV"},
                     "endpointOutput": {...}},
     "eventMetadata": {"eventId": "...", "inferenceTime": "2026-12-03T10:15:02Z"},
     "eventVersion": "0"}

``encoding`` is CSV or JSON for the content types the stack captures as text, BASE64
for the rest (then ``observedContentType`` says what the bytes are). A CSV request has
no header: its values map to the baseline's ``columns`` by position. A JSON request is
``{"instances": [...]}``, ``{"inputs": ...}``, a list of rows or one object; a row is an
object of features, or a list in the order of ``columns``.

Where they are (``infra.contracts.drift``): SageMaker writes
``<model>/<endpoint>/<variant>/yyyy/mm/dd/hh/*.jsonl``; EKS models' containers write the
same records under ``<model>/eks/...``. The listing walks the prefixes below
``<model>/`` (never ``<model>/drift/``): where a level of hour folders starts it lists
only the window's hours; objects outside such folders count when they were written
since the window started. Records whose ``inferenceTime`` falls outside the window are
left out; a record that cannot be decoded is skipped and counted.
"""

from __future__ import annotations

import base64
import binascii
import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from infra.contracts import drift as contract

YEAR = re.compile(r"^\d{4}$")
MAX_DEPTH = 4  # <model>/<endpoint>/<variant>/ and a folder or two more before the hours


class Undecodable(ValueError):
    """A capture record this job cannot turn into rows of features."""


@dataclass
class Window:
    """The features' values in a window of captures, and what could not be read."""

    start: datetime
    end: datetime
    features: list[str]
    values: dict[str, list[Any]] = field(default_factory=dict)
    rows: int = 0  # requests' rows decoded (a request of 3 instances is 3 rows)
    records: int = 0  # capture records in the window
    undecodable: int = 0  # of those, records that could not be decoded
    files: int = 0  # capture objects read

    def __post_init__(self) -> None:
        self.values = {name: [] for name in self.features}

    def add(self, rows: list[dict[str, Any]]) -> None:
        self.rows += len(rows)
        for row in rows:
            for name in self.features:
                self.values[name].append(row.get(name))


def window_hours(start: datetime, end: datetime) -> list[datetime]:
    """The UTC hours the window touches, oldest first."""
    hour = start.replace(minute=0, second=0, microsecond=0)
    hours = []
    while hour < end:
        hours.append(hour)
        hour += timedelta(hours=1)
    return hours


def _pages(s3: Any, bucket: str, prefix: str, delimiter: bool) -> Iterator[dict[str, Any]]:
    extra = {"Delimiter": "/"} if delimiter else {}
    yield from s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, **extra)


def capture_keys(s3: Any, bucket: str, model: str, start: datetime, end: datetime) -> list[str]:
    """The keys of the capture objects that may hold records of the window, sorted."""
    skipped = f"{model}/{contract.DRIFT_PREFIX}/"
    found: list[str] = []

    def walk(prefix: str, depth: int) -> None:
        folders, objects = [], []
        for page in _pages(s3, bucket, prefix, delimiter=True):
            folders += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
            objects += page.get("Contents", [])
        found.extend(o["Key"] for o in objects if o["LastModified"] >= start)
        if folders and all(YEAR.match(f[len(prefix) :].rstrip("/")) for f in folders):
            for hour in window_hours(start, end):
                for page in _pages(s3, bucket, f"{prefix}{hour:%Y/%m/%d/%H}/", delimiter=False):
                    found.extend(o["Key"] for o in page.get("Contents", []))
            return
        for folder in folders:
            if folder != skipped and depth < MAX_DEPTH:
                walk(folder, depth + 1)

    walk(f"{model}/", 0)
    return sorted(set(found))


def _text(endpoint_input: dict[str, Any]) -> tuple[str, str]:
    """The request body as text, and whether it is ``csv`` or ``json``."""
    data, encoding = endpoint_input.get("data"), str(endpoint_input.get("encoding", "")).upper()
    content_type = str(endpoint_input.get("observedContentType", "")).lower()
    if not isinstance(data, str):
        raise Undecodable("no data")
    if encoding == "CSV":
        return data, "csv"
    if encoding == "JSON":
        return data, "json"
    if encoding != "BASE64":
        raise Undecodable(f"encoding {encoding or 'missing'}")
    try:
        text = base64.b64decode(data, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise Undecodable("not base64 of UTF-8 text") from None
    if "csv" in content_type:
        return text, "csv"
    if "json" in content_type:
        return text, "json"
    raise Undecodable(f"content type {content_type or 'missing'}")


def _row(item: Any, columns: list[str]) -> dict[str, Any]:
    if isinstance(item, dict):
        return item
    if isinstance(item, list) and len(item) == len(columns):
        return dict(zip(columns, item, strict=True))
    raise Undecodable("a row is neither an object nor a list of the baseline's columns")


def _json_rows(body: Any, columns: list[str]) -> list[dict[str, Any]]:
    if isinstance(body, dict) and "instances" in body:
        body = body["instances"]
    elif isinstance(body, dict) and "inputs" in body:
        body = body["inputs"]
        lists = isinstance(body, dict) and body and all(isinstance(v, list) for v in body.values())
        if lists and len({len(v) for v in body.values()}) == 1:  # columnar: {"a": [1, 2], "b": [3, 4]}
            return [dict(zip(body, values, strict=True)) for values in zip(*body.values(), strict=True)]
    if isinstance(body, list):
        if body and not isinstance(body[0], dict | list):  # one row as a flat list
            return [_row(body, columns)]
        return [_row(item, columns) for item in body]
    if isinstance(body, dict):
        return [body]
    raise Undecodable("not an object or a list")


def payload_rows(endpoint_input: dict[str, Any], columns: list[str]) -> list[dict[str, Any]]:
    """The rows of features in one captured request; ``Undecodable`` if it holds none we can read."""
    text, kind = _text(endpoint_input)
    if kind == "csv":
        rows = [values for values in csv.reader(text.splitlines()) if values]
        if any(len(values) != len(columns) for values in rows):
            raise Undecodable(f"a CSV row without the baseline's {len(columns)} columns")
        return [dict(zip(columns, values, strict=True)) for values in rows]
    try:
        return _json_rows(json.loads(text), columns)
    except json.JSONDecodeError:
        pass
    try:  # JSON lines: a row or a request a line
        return [
            row for line in text.splitlines() if line.strip() for row in _json_rows(json.loads(line), columns)
        ]
    except json.JSONDecodeError:
        raise Undecodable("not JSON") from None


def _inference_time(record: dict[str, Any]) -> datetime | None:
    stamp = (record.get("eventMetadata") or {}).get("inferenceTime")
    try:
        return datetime.fromisoformat(str(stamp).replace("Z", "+00:00")) if stamp else None
    except ValueError:
        return None


def add_records(window: Window, body: bytes, columns: list[str]) -> None:
    """Decode one capture object's records into ``window``; records outside it are left out."""
    for line in body.decode("utf-8", errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise Undecodable("not a capture record")
        except (json.JSONDecodeError, Undecodable):
            window.records += 1
            window.undecodable += 1
            continue
        when = _inference_time(record)
        if when is not None and when.tzinfo is not None and not window.start <= when < window.end:
            continue
        window.records += 1
        try:
            window.add(payload_rows((record.get("captureData") or {}).get("endpointInput") or {}, columns))
        except Undecodable:
            window.undecodable += 1


def read_window(
    s3: Any, bucket: str, model: str, columns: list[str], features: list[str], start: datetime, end: datetime
) -> Window:
    """Every capture record of ``model`` between ``start`` and ``end`` (UTC), decoded."""
    window = Window(start, end, features)
    for key in capture_keys(s3, bucket, model, start, end):
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        window.files += 1
        add_records(window, body, columns)
    return window
