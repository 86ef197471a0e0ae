"""How a day-2 command shows and writes its edit of a stack file: a diff, then the file or nothing.

``promote``, ``promote --from-shadow`` and ``registry pin`` all edit the stack file
the same way: print the unified diff, and with ``--dry-run`` stop there; otherwise
write it (``StackDocument.save`` validates first and replaces the file atomically).
"""

from __future__ import annotations

import difflib

from rich.console import Console

from infra.stackfiles.edit import StackDocument


def show_and_write(document: StackDocument, out: Console, dry_run: bool) -> bool:
    """Print the edit as a diff; write it unless ``dry_run``. True when the file was written."""
    diff = difflib.unified_diff(
        document.original.splitlines(keepends=True), document.render().splitlines(keepends=True),
        str(document.path), str(document.path),
    )  # fmt: skip
    out.print("".join(diff), markup=False, highlight=False, soft_wrap=True, end="")
    if dry_run:
        out.print("[dim]dry run: nothing written[/]")
        return False
    document.save()
    return True
