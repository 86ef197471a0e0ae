"""Capture records to rows: every payload shape the job reads, and the ones it counts as undecodable."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from infra.contracts import drift as contract
from infra.ops.drift import captures
from tests.ops.drift.conftest import BUCKET, MODEL, json_input

COLUMNS = ["a", "b"]


def csv(data: str) -> dict:
    return {"observedContentType": "text/csv", "mode": "INPUT", "data": data, "encoding": "CSV"}


@pytest.mark.parametrize(
    ("endpoint_input", "rows"),
    [
        (csv("1,x"), [{"a": "1", "b": "x"}]),
        (csv("1,x\n2,y\n"), [{"a": "1", "b": "x"}, {"a": "2", "b": "y"}]),
        (json_input({"instances": [{"a": 1, "b": "x"}]}), [{"a": 1, "b": "x"}]),
        (json_input({"instances": [[1, "x"], [2, "y"]]}), [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]),
        (json_input({"inputs": {"a": 1, "b": "x"}}), [{"a": 1, "b": "x"}]),
        (json_input({"inputs": {"a": [1, 2], "b": ["x", "y"]}}), [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]),
        (json_input({"inputs": [{"a": 1}]}), [{"a": 1}]),
        (json_input([1, "x"]), [{"a": 1, "b": "x"}]),
        (json_input({"a": 1, "b": "x"}, base64_encoded=True), [{"a": 1, "b": "x"}]),
        (
            {
                "observedContentType": "text/csv",
                "data": base64.b64encode(b"3,z").decode(),
                "encoding": "BASE64",
            },
            [{"a": "3", "b": "z"}],
        ),
        (
            {
                "observedContentType": "application/jsonlines",
                "data": '{"a": 1}\n{"a": 2}\n',
                "encoding": "JSON",
            },
            [{"a": 1}, {"a": 2}],
        ),
    ],
)
def test_payloads_become_rows_of_features(endpoint_input, rows):
    assert captures.payload_rows(endpoint_input, COLUMNS) == rows


@pytest.mark.parametrize(
    "endpoint_input",
    [
        csv("1,x,extra"),
        json_input({"instances": [[1, "x", 3]]}),
        json_input({"instances": [7]}),
        json_input("text"),
        {"observedContentType": "application/json", "data": "{", "encoding": "JSON"},
        {"observedContentType": "application/json", "data": "%%%", "encoding": "BASE64"},
        {"observedContentType": "image/png", "data": base64.b64encode(b"png").decode(), "encoding": "BASE64"},
        {"observedContentType": "text/csv", "data": "1,x", "encoding": "XML"},
        {"observedContentType": "text/csv", "encoding": "CSV"},
    ],
)
def test_what_cannot_be_read_is_undecodable(endpoint_input):
    with pytest.raises(captures.Undecodable):
        captures.payload_rows(endpoint_input, COLUMNS)


def test_the_window_touches_each_hour_once():
    start = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)
    hours = captures.window_hours(start, datetime(2026, 12, 3, 12, 0, tzinfo=UTC))
    assert [h.hour for h in hours] == [9, 10, 11]


def test_hour_folders_are_listed_for_the_window_only(aws):
    for key in (
        f"{MODEL}/ep/stable/2026/12/03/08/a.jsonl",  # before the window
        f"{MODEL}/ep/stable/2026/12/03/10/b.jsonl",
        f"{MODEL}/ep/canary/2026/12/03/11/c.jsonl",
        f"{MODEL}/ep/canary/2026/12/03/12/d.jsonl",  # the window ends at 12:00
        f"{MODEL}/{contract.REPORTS_PREFIX}x.json",
        "other-model/ep/stable/2026/12/03/10/e.jsonl",
    ):
        aws.s3.put_object(Bucket=BUCKET, Key=key, Body=b"")
    start, end = datetime(2026, 12, 3, 9, tzinfo=UTC), datetime(2026, 12, 3, 12, tzinfo=UTC)
    assert captures.capture_keys(aws.s3, BUCKET, MODEL, start, end) == [
        f"{MODEL}/ep/canary/2026/12/03/11/c.jsonl",
        f"{MODEL}/ep/stable/2026/12/03/10/b.jsonl",
    ]


def test_a_record_line_that_is_not_json_counts_as_undecodable():
    start, end = datetime(2026, 12, 3, 9, tzinfo=UTC), datetime(2026, 12, 3, 12, tzinfo=UTC)
    window = captures.Window(start, end, ["a"])
    good = {
        "captureData": {"endpointInput": csv("1,x")},
        "eventMetadata": {"inferenceTime": "2026-12-03T10:00:00Z"},
    }
    late = {**good, "eventMetadata": {"inferenceTime": "2026-12-03T12:00:00Z"}}
    body = "\n".join([json.dumps(good), "{truncated", "[1, 2]", json.dumps(late), ""]).encode()
    captures.add_records(window, body, COLUMNS)
    assert (window.records, window.undecodable, window.rows, window.values) == (3, 2, 1, {"a": ["1"]})
