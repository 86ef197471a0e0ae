"""The digest table: which digest each image the stack runs by tag resolves to (pure, stdlib only).

``infra/specs/image_digests.json`` is filled only by ``modelfleet images refresh``, which
asks each registry (it needs network access; nothing else here does). A digest is
never typed in or guessed: an entry the command has not resolved stays ``null``,
and the program then runs that image by tag and says so in a warning.

Each entry keeps the reference it was resolved for. A digest applies only while
that reference is still the one the stack runs: bumping a tag in
``eks_versions.py`` or ``chart_images.py`` makes the old digest stale, never wrong.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

TABLE_PATH = Path(__file__).with_name("image_digests.json")
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
ABOUT = (
    "Digests of the images the stack runs that no stack file names: the model-fetching init "
    "container, cluster-autoscaler per Kubernetes version, and each Helm chart's images. Written "
    "by `modelfleet images refresh` from the registries themselves; never edited by hand. A null "
    "digest runs by tag, and `modelfleet plan` and `pulumi up` warn about it."
)


class DigestTableError(ValueError):
    """The table is malformed: a digest that is not sha256, a missing field."""


@dataclass(frozen=True)
class Resolved:
    """One table entry: the reference, its digest if known, when and where it was read."""

    image: str  # registry/repository:tag the digest belongs to
    digest: str | None = None  # sha256:<64 hex>
    resolved_at: str | None = None  # ISO 8601 UTC time of the registry answer
    resolved_from: str | None = None  # the manifest URL that answered


def parse(data: Mapping[str, Any]) -> dict[str, Resolved]:
    """Entries by key from the table's JSON document, every problem listed in one error."""
    images = data.get("images")
    if not isinstance(images, dict):
        raise DigestTableError("the table has no 'images' object")
    problems, table = [], {}
    for key, entry in images.items():
        try:
            resolved = Resolved(**entry)
        except TypeError as error:
            problems.append(f"{key}: {error}")
            continue
        if resolved.digest is not None and not DIGEST.match(resolved.digest):
            problems.append(f"{key}: digest must be sha256:<64 lowercase hex> (got {resolved.digest!r})")
        if resolved.digest is not None and not (resolved.resolved_at and resolved.resolved_from):
            problems.append(f"{key}: a digest needs resolved_at and resolved_from (where it was read)")
        table[key] = resolved
    if problems:
        raise DigestTableError("; ".join(problems))
    return table


def load(path: Path = TABLE_PATH) -> dict[str, Resolved]:
    return parse(json.loads(path.read_text(encoding="utf-8")))


@functools.lru_cache(maxsize=1)
def shipped() -> Mapping[str, Resolved]:
    """The packaged table, read once per process (every plan and component shares it)."""
    return load()


def digest_for(table: Mapping[str, Resolved], key: str, image: str) -> str | None:
    """The digest of ``image`` under ``key``, or None when unresolved or resolved for another tag."""
    entry = table.get(key)
    if entry is None or entry.image != image:
        return None
    return entry.digest


def document(table: Mapping[str, Resolved]) -> dict[str, Any]:
    """The JSON document for ``table``, keys sorted so refreshes diff cleanly."""
    return {"about": ABOUT, "images": {key: asdict(table[key]) for key in sorted(table)}}
