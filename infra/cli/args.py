"""The argument parser of every ``modelfleet`` command: nothing a user types is dropped or guessed.

- Flags are spelled in full. argparse's prefix matching is off, so ``--dry`` or
  ``--f`` are errors instead of quietly meaning ``--dry-run`` or ``--force``.
- A flag that needs another (``--force`` needs ``--reason``) is an error on its
  own: each command lists such rules in ``checks``.
- A command either changes nothing (``read_only=True``) or takes ``--dry-run``;
  the CLI tests hold every subcommand, present and future, to one or the other.

Errors are argparse's: the usage, one ``error:`` line on stderr, exit code 2.
Subparsers inherit the class, so a command added with ``add_parser`` gets all this.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

Check = Callable[[argparse.Namespace], str | None]  # what is wrong with the parsed flags, if anything


def positive_int(text: str) -> int:
    """An argument type for a count: a whole number, 1 or more, else argparse's one-line error."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("at least 1")
    return value


class CommandParser(argparse.ArgumentParser):
    def __init__(self, *args: Any, read_only: bool = False, **kwargs: Any):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)
        self.read_only = read_only  # changes neither AWS nor the project's files, so needs no --dry-run
        self.checks: list[Check] = []

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        """Parse, then apply ``checks``; unknown arguments are left for the caller to refuse first."""
        parsed, extras = super().parse_known_args(args, namespace)
        for check in [] if extras else self.checks:
            problem = check(parsed)
            if problem:
                self.error(problem)
        return parsed, extras


def dry_run_option(command: argparse.ArgumentParser, what: str) -> None:
    """``--dry-run``: ``what`` the command shows instead; it then changes neither AWS nor any file."""
    command.add_argument("--dry-run", action="store_true", help=f"{what}; change nothing")


def force_options(command: CommandParser, skips: str) -> None:
    """``--force`` (which skips ``skips``) and the ``--reason`` it requires, printed and recorded.

    ``--reason`` alone is why the change is made: the rollout history keeps it."""
    command.add_argument("--force", action="store_true", help=f"{skips}; needs --reason")
    command.add_argument(
        "--reason", help="why, in words: kept in the rollout history; with --force also printed"
    )
    command.checks.append(_force_needs_reason)


def _force_needs_reason(args: argparse.Namespace) -> str | None:
    if args.force and not any(ch.isalnum() for ch in args.reason or ""):
        return "--force needs --reason '<why, in words>': it is printed and recorded"
    if args.reason is not None and not any(ch.isalnum() for ch in args.reason):
        return "--reason needs words: it is recorded in the rollout history"
    return None
