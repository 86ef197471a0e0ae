"""How every ``modelfleet`` command reports an expected failure: one line on stderr, an exit code."""

from __future__ import annotations

from rich.console import Console


def fail(err: Console, message: str, code: int) -> int:
    """Print ``✗ message`` without markup (messages quote user input) and return ``code``."""
    err.print("[red bold]✗[/]", end=" ")
    err.print(message, markup=False, highlight=False, soft_wrap=True)
    return code
