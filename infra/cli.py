"""``modelfleet``: the command line around the stack (``python -m infra.cli`` works too).

Exit codes: 0 success; 1 the program stopped (e.g. too few AZs in the region);
2 the stack or its config is invalid, with every problem listed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from rich.console import Console

from infra.ops import cli as ops_cli
from infra.plan.engine import PlanError, plan_stack
from infra.plan.render import render
from infra.plan.stackfile import StackFileError, find_root, read_project, read_stack_config
from infra.settings import SettingsError, load_settings

EXIT_PROGRAM_STOPPED = 1
EXIT_INVALID_CONFIG = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="modelfleet", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    def stack_options(command: argparse.ArgumentParser) -> None:
        command.add_argument("--stack", default="dev", help="stack name (default: dev)")
        command.add_argument(
            "--stack-file", type=Path, help="read this file instead of stacks/Pulumi.<stack>.yaml"
        )

    plan = commands.add_parser("plan", help="render a stack offline: no credentials, no Pulumi CLI")
    stack_options(plan)
    plan.add_argument("--out", type=Path, help="also write the plan as JSON to this file")
    plan.add_argument("--summary", action="store_true", help="counts and outputs only, no tree")

    validate = commands.add_parser("validate", help="check stack files without planning")
    stack_options(validate)
    validate.add_argument("--all", action="store_true", help="every stack in stacks/")
    ops_cli.add_parsers(commands)
    return parser


def _report_invalid(console: Console, source: str, error: Exception) -> int:
    console.print(f"[red bold]✗ {source}[/]")
    console.print(str(error), markup=False, highlight=False, soft_wrap=True)
    return EXIT_INVALID_CONFIG


def _plan(args: argparse.Namespace, out: Console, err: Console) -> int:
    started = time.perf_counter()
    try:
        plan = plan_stack(args.stack, stack_file=args.stack_file)
    except (SettingsError, StackFileError) as error:
        return _report_invalid(err, str(args.stack_file or f"stack {args.stack}"), error)
    except PlanError as error:
        err.print(f"[red bold]✗ stack {args.stack} stopped:[/] {error}", highlight=False)
        return EXIT_PROGRAM_STOPPED
    render(plan, out, show_tree=not args.summary)
    if args.out:
        plan.save(args.out)
        out.print(f"Plan written to {args.out}")
    out.print(f"[dim]planned offline in {time.perf_counter() - started:.2f} s[/]")
    return 0


def _validate(args: argparse.Namespace, out: Console, err: Console) -> int:
    try:
        project = read_project(find_root(Path.cwd()))
    except StackFileError as error:
        return _report_invalid(err, "project", error)
    targets = [(s, project.stack_file(s)) for s in project.stacks()] if args.all else [
        (args.stack, args.stack_file or project.stack_file(args.stack))
    ]  # fmt: skip
    status = 0
    for stack, path in targets:
        try:
            load_settings(stack, read_stack_config(project, path).values)
        except (SettingsError, StackFileError) as error:
            status = _report_invalid(err, str(path), error)
        else:
            out.print(f"[green]✓[/] {path}")
    return status


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    out, err = Console(), Console(stderr=True)
    handlers = {"plan": _plan, "validate": _validate, **ops_cli.HANDLERS}
    return handlers[args.command](args, out, err)


if __name__ == "__main__":
    sys.exit(main())
