"""``modelfleet images refresh``: fill the digest table from the registries, registered by the CLI.

Needs network access to the registries (no credentials: every image here is
public). Each image the stack may run (``stack_images.declared()``) is resolved
from its tag to the digest the registry serves now. An image the registry does not
resolve keeps its previous entry and is listed, so a refresh never turns a known
digest into an unknown one; an entry whose tag and digest did not change keeps its
``resolved_at``, so a refresh that finds nothing new changes nothing.

Exit codes, like ``prices refresh``: 0 the table was refreshed (images that did not
resolve are listed); 1 no registry resolved anything (nothing written); 2 an
unknown ``--only`` key or a malformed table.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infra.cli.args import dry_run_option
from infra.cli.failures import fail
from infra.specs import image_digests, stack_images
from infra.specs.image_digests import Resolved
from infra.specs.stack_images import StackImage

if TYPE_CHECKING:
    from rich.console import Console

    from infra.ops.oci_registry import Resolution

EXIT_STOPPED = 1
EXIT_INVALID = 2
TIMEOUT_SECONDS = 20.0
MAX_REDIRECTS = 5  # registry.k8s.io answers with one redirect to its backing registry


def add_parser(commands: Any) -> None:

    images = commands.add_parser("images", help="the digest table of add-on and init-container images")
    images_commands = images.add_subparsers(dest="images_command", required=True)
    refresh_parser = images_commands.add_parser(
        "refresh", help="resolve every image's tag to a digest from its registry (needs network)"
    )
    refresh_parser.add_argument("--only", nargs="+", metavar="KEY", help="only these table keys")
    dry_run_option(refresh_parser, "resolve and report, write nothing")
    refresh_parser.add_argument(
        "--table", type=Path, help="the table to refresh (default: infra/specs/image_digests.json)"
    )


@dataclass
class Outcome:
    table: dict[str, Resolved]
    changed: list[str] = field(default_factory=list)  # keys whose image or digest changed
    unchanged: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # key -> why; the previous entry is kept


def refresh(
    images: Sequence[StackImage],
    previous: Mapping[str, Resolved],
    resolve: Callable[[str], Resolution],  # raises oci_registry.RegistryError when it cannot
    *,
    now: datetime,
    prune_to: Collection[str] | None = None,
) -> Outcome:
    """The table after resolving ``images``; keys outside ``prune_to`` (when given) are dropped."""
    from infra.ops.oci_registry import RegistryError  # noqa: PLC0415 - httpx, only for this command

    kept = {k: v for k, v in previous.items() if prune_to is None or k in prune_to}
    outcome = Outcome(kept)
    for image in images:
        old = previous.get(image.key)
        try:
            resolution = resolve(image.image)
        except RegistryError as error:
            outcome.failed[image.key] = str(error)
            outcome.table.setdefault(image.key, Resolved(image.image))  # listed, still unresolved
            continue
        if old is not None and (old.image, old.digest) == (image.image, resolution.digest):
            outcome.unchanged.append(image.key)
            continue
        stamp = now.astimezone(UTC).isoformat(timespec="seconds")
        outcome.table[image.key] = Resolved(image.image, resolution.digest, stamp, resolution.url)
        outcome.changed.append(image.key)
    return outcome


def write_table(table: Mapping[str, Resolved], path: Path) -> None:
    from infra.stackfiles.edit import atomic_write  # noqa: PLC0415

    atomic_write(path, json.dumps(image_digests.document(table), indent=2) + "\n")


def run(args: argparse.Namespace, out: Console, err: Console) -> int:
    import httpx  # noqa: PLC0415 - only this command talks to registries
    from rich.markup import escape  # noqa: PLC0415

    from infra.ops.oci_registry import resolve  # noqa: PLC0415

    images = stack_images.declared()
    unknown = sorted(set(args.only or ()) - {image.key for image in images})
    if unknown:
        known = ", ".join(sorted(image.key for image in images))
        return fail(err, f"unknown image key(s): {', '.join(unknown)}; known: {known}", EXIT_INVALID)
    selected = [image for image in images if not args.only or image.key in args.only]
    target = args.table or image_digests.TABLE_PATH
    try:
        previous = image_digests.load(target) if target.exists() else {}
    except (ValueError, OSError) as error:  # DigestTableError and bad JSON are ValueErrors
        return fail(err, f"digest table {target}: {error}", EXIT_INVALID)
    with httpx.Client(timeout=TIMEOUT_SECONDS, max_redirects=MAX_REDIRECTS) as http:
        outcome = refresh(
            selected,
            previous,
            lambda image: resolve(http, image),
            now=datetime.now(UTC),
            prune_to=None if args.only else {image.key for image in images},  # keys no stack runs
        )
    for key in outcome.changed:
        entry = outcome.table[key]
        out.print(f"[green]✓[/] {key}: {entry.image}@{entry.digest}", highlight=False, soft_wrap=True)
    if outcome.unchanged:
        out.print(f"[dim]unchanged: {', '.join(outcome.unchanged)}[/]", highlight=False, soft_wrap=True)
    for key, reason in outcome.failed.items():
        line = f"[yellow]not resolved, previous entry kept:[/] {key}: {escape(reason)}"
        err.print(line, highlight=False, soft_wrap=True)
    if len(outcome.failed) == len(selected):
        return fail(err, "no image resolved; nothing written (are the registries reachable?)", EXIT_STOPPED)
    if args.dry_run:
        out.print(f"dry run: {target} not written", soft_wrap=True)
        return 0
    write_table(outcome.table, target)
    out.print(f"{len(outcome.changed)} digest(s) changed in {target}", soft_wrap=True)
    return 0
