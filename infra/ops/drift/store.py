"""The drift objects in a capture bucket: their keys (from ``infra.contracts.drift``) and JSON I/O."""

from __future__ import annotations

import json
from typing import Any

from infra.contracts import drift as contract


class Missing(LookupError):
    """The object is not in the bucket."""


def baseline_key(model: str) -> str:
    return f"{model}/{contract.BASELINE_KEY}"


def reports_prefix(model: str) -> str:
    return f"{model}/{contract.REPORTS_PREFIX}"


def report_key(model: str, run_id: str) -> str:
    return f"{reports_prefix(model)}{run_id}.json"


def url(bucket: str, key: str) -> str:
    return f"s3://{bucket}/{key}"


def read_json(s3: Any, bucket: str, key: str) -> Any:
    """The object's JSON; ``Missing`` if there is no such object, ``ValueError`` if it is not JSON."""
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        raise Missing(url(bucket, key)) from None
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ValueError(f"{url(bucket, key)} is not JSON") from None


def write_json(s3: Any, bucket: str, key: str, document: Any) -> None:
    body = json.dumps(document, indent=1, sort_keys=False).encode()
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")


def report_keys(s3: Any, bucket: str, model: str) -> list[str]:
    """Every report's key, oldest first: run ids start with the window's end, so keys sort by time."""
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=reports_prefix(model)):
        keys += [o["Key"] for o in page.get("Contents", []) if o["Key"].endswith(".json")]
    return sorted(keys)
