"""``modelfleet history``: the stack's rollout history, newest last, as a table or JSON.

Reads the records ``rollout``, ``rollout abort`` and ``promote`` write
(``infra.ops.history``) from the stack's log group, in the stack's region.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infra.cli.args import positive_int
from infra.cli.failures import EXIT_STOPPED, fail

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from infra.ops.history import HistoryLog, HistoryRecord

DEFAULT_LAST = 20


def add_history_parser(commands: Any) -> None:
    history = commands.add_parser(
        "history",
        help="who rolled out, aborted or promoted what, when, why, and how it ended",
        read_only=True,
    )
    history.add_argument("--stack", required=True, help="stack (environment) name")
    history.add_argument("--model", help="this model's records only (a removed model's too)")
    history.add_argument("--stack-file", type=Path, help="this file, not stacks/Pulumi.<stack>.yaml")
    history.add_argument(
        "--last",
        type=positive_int,
        default=DEFAULT_LAST,
        help=f"the newest N records (default {DEFAULT_LAST})",
    )
    history.add_argument("--json", action="store_true", help="the records as a JSON list, oldest first")


def history(args: argparse.Namespace, out: Console, err: Console, log: HistoryLog | None = None) -> int:
    from infra.ops.history import HistoryLog, as_rows  # noqa: PLC0415
    from infra.ops.target import load_project, stack_settings  # noqa: PLC0415

    region = stack_settings(load_project(), args.stack, args.stack_file).region
    log = log or HistoryLog(args.stack, region)
    if not log.exists():
        return fail(
            err,
            f"no rollout history: log group {log.group} does not exist in {region} (deploy the stack: "
            "pulumi up)",
            EXIT_STOPPED,
        )
    records = log.read(args.model, args.last)
    if args.json:
        out.print(json.dumps(as_rows(records), indent=2), markup=False, highlight=False, soft_wrap=True)
        return 0
    if not records:
        of = f" of model {args.model}" if args.model else ""
        out.print(f"no records{of} in {log.group} ({region})", markup=False, highlight=False)
        return 0
    out.print(_table(records, f"{log.group} ({region}): the last {len(records)}"))
    return 0


def _table(records: list[HistoryRecord], title: str) -> Table:
    from rich.table import Table  # noqa: PLC0415

    table = Table(
        "when (UTC)", "model", "command", "actor", "outcome", "steps", "reason / message", title=title
    )
    colours = {"succeeded": "green", "unchanged": "green", "rolled_back": "red", "failed": "red"}
    for record in records:
        colour = colours.get(record.outcome.value, "yellow")
        notes = "; ".join(part for part in (record.reason, record.message) if part)
        table.add_row(
            record.started.replace("T", " ").removesuffix("Z"), record.model, record.command,
            f"{record.actor.user}\n{record.actor.arn}", f"[{colour}]{record.outcome.value}[/]",
            record.steps_summary() or "-", notes or "-",
        )  # fmt: skip
    return table
