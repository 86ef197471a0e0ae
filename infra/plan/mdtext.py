"""Markdown primitives for PR comments and job summaries: size, code spans, escaped text (pure)."""

from __future__ import annotations

import json
import re

_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|#~])")


def size(text: str) -> int:
    """UTF-8 bytes: never less than the characters GitHub counts against its limits."""
    return len(text.encode("utf-8"))


def code(text: str) -> str:
    return "`" + " ".join(text.replace("`", "'").split()) + "`"


def escape(text: str, width: int | None = None) -> str:
    """Free text (a policy message) as inert markdown on one line, cut to ``width`` characters."""
    text = " ".join(text.split())
    if width is not None and len(text) > width:
        text = text[: width - 1] + "…"
    return _SPECIAL.sub(r"\\\1", text)


def value(data, width: int | None) -> str:
    text = "(none)" if data is None else json.dumps(data, sort_keys=True, default=str)
    if width is not None and len(text) > width:
        text = text[: width - 1] + "…"
    return code(text)


def fit(lines: list[str], room: int, more: str) -> tuple[list[str], int]:
    """The leading ``lines`` that fit in ``room`` bytes with ``more`` after them; and how many were left."""
    used, kept = size(more) + 1, []
    for line in lines:
        if used + size(line) + 1 > room:
            break
        kept.append(line)
        used += size(line) + 1
    return kept, len(lines) - len(kept)
