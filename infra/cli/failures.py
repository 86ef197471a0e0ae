"""How every ``modelfleet`` command reports an expected failure: one line on stderr, an exit code."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

# Exit codes of every command (docs/operations.md, "Dry runs, flags and exit codes").
EXIT_STOPPED = 1  # the command ran and failed: a plan stopped, an AWS call failed, a rollout rolled back
EXIT_INVALID = 2  # the input is wrong: config, flags, a file or an answer
EXIT_REFUSED = 3  # the input is valid but policy refuses it (a mandatory violation)


def fail(err: Console, message: str, code: int) -> int:
    """Print ``✗ message`` without markup (messages quote user input) and return ``code``."""
    err.print("[red bold]✗[/]", end=" ")
    err.print(message, markup=False, highlight=False, soft_wrap=True)
    return code
