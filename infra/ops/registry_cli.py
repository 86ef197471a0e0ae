"""``modelfleet registry pin``: write a group's latest Approved version into the stack file.

Registered by ``infra.cli.commands``; boto3 is imported when the command runs.
The edit is shown as a diff; ``--dry-run`` writes nothing, and the file is written
only if the stack still validates. Exit codes as the other day-2 commands: 0 pinned
(or already pinned, or shown), 1 the registry refused or could not be read, 2 invalid
input.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infra.cli.args import dry_run_option
from infra.ops.cli import Handler, guarded
from infra.ops.errors import InvalidInput, Refused

if TYPE_CHECKING:
    from rich.console import Console

MODELS = "modelfleet:models"
REGION = "aws:region"


def add_parsers(commands: Any) -> None:
    registry = commands.add_parser("registry", help="pin model registry versions into a stack file")
    below = registry.add_subparsers(dest="registry_command", required=True)
    pin = below.add_parser(
        "pin",
        help="write a variant's latest Approved version (for eks, its artifact and image too) "
        "into the stack file",
    )
    pin.add_argument("--stack", required=True, help="stack (environment) name")
    pin.add_argument("--model", required=True, help="model name in the stack's catalog")
    pin.add_argument(
        "--variant",
        choices=["stable", "canary", "shadow"],
        help="which variant (default: the canary if the model has one, else stable)",
    )
    pin.add_argument("--stack-file", type=Path, help="this file, not stacks/Pulumi.<stack>.yaml")
    dry_run_option(pin, "show the edit")


def _pin(args: argparse.Namespace, out: Console, err: Console) -> int:
    from infra.ops import registry_pin  # noqa: PLC0415 - botocore
    from infra.ops.clients import client  # noqa: PLC0415 - boto3
    from infra.ops.drivers.registry import copies_packages  # noqa: PLC0415 - botocore
    from infra.ops.stack_edits import show_and_write  # noqa: PLC0415 - rich, ruamel
    from infra.ops.target import load_project  # noqa: PLC0415 - the settings' models
    from infra.stackfiles.edit import StackDocument  # noqa: PLC0415

    document = StackDocument.load(load_project(), args.stack, args.stack_file)
    index = document.index_of(MODELS, args.model)
    if index is None:
        raise InvalidInput(f"{document.path}: no model '{args.model}' in {MODELS}")
    entry = document.get((MODELS, index))
    variants = entry.get("variants") or {}
    variant = args.variant or ("canary" if "canary" in variants else "stable")
    region = document.get(REGION, None)
    if not region:
        raise InvalidInput(f"{document.path}: no {REGION}: the registry is asked in the stack's region")
    try:
        copies = copies_packages(str(entry.get("backend")))
    except ValueError:
        raise InvalidInput(f"{document.path}: model '{args.model}' has no valid backend") from None
    try:
        edit = registry_pin.pin_edit(client("sagemaker", str(region)), entry, variant, copies)
    except registry_pin.RegistryError as error:
        raise Refused(str(error)) from None
    where = f"{args.model}/{variant}"
    if not edit.changes:
        out.print(f"[green]✓[/] {where} already runs {edit.version}, the group's latest Approved version")
        return 0
    at = (MODELS, index, "variants", variant)
    for key, value in edit.changes.items():
        if value is None:
            document.delete((*at, key))
        else:
            document.set((*at, key), value)
    if not show_and_write(document, out, args.dry_run):
        return 0
    out.print(
        f"[green]✓[/] {where} pinned to {edit.version}. Next: modelfleet plan --stack {args.stack}, "
        f"pulumi up, then modelfleet rollout --stack {args.stack} --model {args.model}",
        soft_wrap=True,
        highlight=False,
    )
    return 0


HANDLERS: dict[str, Handler] = {"registry": guarded(_pin)}
