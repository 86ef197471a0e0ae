"""Invoke an endpoint (or one variant) with the catalog's sample and check the answer.

A canary that cannot answer one well-formed request should never get traffic,
so the rollout runs this against the canary before its first step.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from infra.ops.target import InvalidInput, ModelTarget


@dataclass(frozen=True)
class SmokeResult:
    variant: str | None  # the variant asked for; None lets SageMaker pick by weight
    status: int
    latency_ms: float
    invoked_variant: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def response_problems(
    status: int, content_type: str, body: bytes, accept: str, expected_keys: Sequence[str]
) -> list[str]:
    """What is wrong with a response, if anything (pure)."""
    if status != 200:
        return [f"status {status}, expected 200"]
    if not body:
        return ["empty response body"]
    wanted = _media_type(accept)
    if wanted not in ("*/*", _media_type(content_type)):
        return [f"content type '{content_type}', expected '{accept}'"]
    if wanted != "application/json":
        return []
    try:
        document = json.loads(body)
    except ValueError:
        return ["response is not valid JSON"]
    missing = [k for k in expected_keys if not isinstance(document, dict) or k not in document]
    return [f"response lacks key '{k}'" for k in missing]


def smoke(runtime: Any, target: ModelTarget, variant: str | None = None) -> SmokeResult:
    """One real invocation with ``rollout.sample_payload``; ``variant`` pins ``TargetVariant``."""
    settings = target.rollout
    target.require_variant(variant)
    if settings.sample_payload is None:
        raise InvalidInput(
            f"model '{target.model.name}' has no rollout.sample_payload in {target.stack_file}: "
            "add a sample request to smoke-test it (rollout: or pass --skip-smoke)"
        )
    request: dict[str, Any] = {
        "EndpointName": target.endpoint_name,
        "Body": settings.sample_payload.encode(),
        "ContentType": settings.sample_content_type,
        "Accept": settings.sample_accept,
    }
    if variant:
        request["TargetVariant"] = variant
    started = time.perf_counter()
    try:
        response = runtime.invoke_endpoint(**request)
        body = response["Body"].read()
    except ClientError as error:
        elapsed = (time.perf_counter() - started) * 1000
        details = error.response
        status = int(
            details.get("OriginalStatusCode") or details.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        )
        message = details.get("Error", {}).get("Message", str(error))
        return SmokeResult(variant, status, elapsed, problems=[f"invocation failed ({status}): {message}"])
    elapsed = (time.perf_counter() - started) * 1000
    problems = response_problems(
        200, response.get("ContentType", ""), body, settings.sample_accept, settings.sample_response_keys
    )
    return SmokeResult(variant, 200, elapsed, response.get("InvokedProductionVariant"), problems)
