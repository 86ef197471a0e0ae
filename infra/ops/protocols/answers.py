"""What is wrong with a runtime's answer, if anything, per request kind (pure).

Shapes, from the runtimes' documentation:
- OpenAI embeddings (TEI's ``/v1/embeddings``): ``{"data": [{"embedding": [...]}, ...],
  "usage": {"prompt_tokens": n, ...}}``, one embedding per input, all of one length;
- TEI's ``/rerank``: ``[{"index": i, "score": s}, ...]``, one score per text;
- an error: vLLM ``{"error": {"message": ...}}`` (older ``{"object": "error", "message": ...}``),
  TEI ``{"error": "...", "error_type": "..."}``.
An ``/invocations`` answer is judged by ``infra.ops.smoke.response_problems``.
"""

from __future__ import annotations

import json
from typing import Any

MAX_PROBLEMS = 5


def error_detail(body: bytes) -> str:
    """The server's own words about an error, from a JSON error body, or its first characters."""
    try:
        document = json.loads(body)
    except ValueError:
        return body[:120].decode(errors="replace").strip()
    error = document.get("error", document) if isinstance(document, dict) else document
    if isinstance(error, dict):
        return str(error.get("message") or error)[:200]
    return str(error)[:200]


def json_answer(status: int, content_type: str, body: bytes) -> tuple[Any, list[str]]:
    """The answer's JSON document, or the problems that keep it from being one."""
    if status != 200:
        detail = error_detail(body)
        return None, [f"status {status}, expected 200" + (f": {detail}" if detail else "")]
    if not body:
        return None, ["empty response body"]
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        return None, [f"content type '{content_type}', expected 'application/json'"]
    try:
        return json.loads(body), []
    except ValueError:
        return None, ["response is not valid JSON"]


def _numbers(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(x, int | float) and not isinstance(x, bool) for x in value)
    )


def embeddings_problems(document: Any, inputs: int) -> list[str]:
    data = document.get("data") if isinstance(document, dict) else None
    if not isinstance(data, list):
        return ["answer lacks 'data', the list of embeddings"]
    found = [] if len(data) == inputs else [f"{len(data)} embeddings for {inputs} inputs"]
    vectors = [item.get("embedding") if isinstance(item, dict) else None for item in data]
    found += [
        f"data[{i}].embedding is not a list of numbers" for i, v in enumerate(vectors) if not _numbers(v)
    ]
    lengths = sorted({len(v) for v in vectors if _numbers(v)})
    if len(lengths) > 1:
        found.append(f"embeddings of different lengths: {', '.join(map(str, lengths))}")
    return found[:MAX_PROBLEMS]


def prompt_tokens(document: Any) -> int | None:
    """``usage.prompt_tokens`` of an OpenAI-style answer, when it has one."""
    usage = document.get("usage") if isinstance(document, dict) else None
    value = usage.get("prompt_tokens") if isinstance(usage, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def rerank_problems(document: Any, texts: int) -> list[str]:
    if not isinstance(document, list):
        return ["answer is not a list of {index, score}"]
    found = [] if len(document) == texts else [f"{len(document)} scores for {texts} texts"]
    seen: set[int] = set()
    for position, item in enumerate(document):
        index = item.get("index") if isinstance(item, dict) else None
        score = item.get("score") if isinstance(item, dict) else None
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < texts:
            found.append(f"[{position}].index is not a text's index (0-{texts - 1})")
        elif index in seen:
            found.append(f"text {index} is scored twice")
        else:
            seen.add(index)
        if not isinstance(score, int | float) or isinstance(score, bool):
            found.append(f"[{position}].score is not a number")
    return found[:MAX_PROBLEMS]
