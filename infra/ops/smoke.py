"""A smoke test's request and its verdict: the catalog's sample out, a well-formed answer back (pure).

A canary that cannot answer one well-formed request should never get traffic,
so the rollout smoke-tests the canary before its first step. The request itself
goes out through the model's driver (``ServingDriver.smoke``); what it sends and
what counts as a good answer are the same for every backend, and live here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from infra.ops.drivers.base import ModelTarget
from infra.ops.errors import InvalidInput


def sample_payload(target: ModelTarget, variant: str | None) -> str:
    """``rollout.sample_payload`` for a variant the model has; ``InvalidInput`` if either is missing."""
    target.require_variant(variant)
    if target.rollout.sample_payload is None:
        raise InvalidInput(
            f"model '{target.model.name}' has no rollout.sample_payload in {target.stack_file}: "
            "add a sample request to smoke-test it (rollout: or pass --skip-smoke)"
        )
    return target.rollout.sample_payload


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


# A model served by vLLM (LMI on a shared endpoint) answers an OpenAI chat completion.
CHAT_PROMPT = "Reply with one word: ready?"
CHAT_MAX_TOKENS = 16  # a smoke test asks for an answer, not an essay


def chat_payload() -> str:
    """The chat completion a smoke test sends a vLLM model: one user message, a few tokens."""
    return json.dumps({"messages": [{"role": "user", "content": CHAT_PROMPT}], "max_tokens": CHAT_MAX_TOKENS})


def chat_problems(status: int, body: bytes) -> list[str]:
    """What is wrong with a chat completion, if anything: it needs ``choices[0].message.content`` (pure)."""
    if status != 200:
        return [f"status {status}, expected 200"]
    if not body:
        return ["empty response body"]
    try:
        document = json.loads(body)
    except ValueError:
        return ["response is not valid JSON"]
    choices = document.get("choices") if isinstance(document, dict) else None
    first = choices[0] if isinstance(choices, list) and choices else None
    message = first.get("message") if isinstance(first, dict) else None
    content = message.get("content") if isinstance(message, dict) else None
    if not isinstance(content, str):
        return ["response lacks choices[0].message.content: not an OpenAI chat completion"]
    return []
