"""``modelfleet``: the command line around the stack (``python -m infra.cli.commands`` works too).

Exit codes: 0 success; 1 the program stopped (e.g. too few AZs in the region);
2 the stack, its config or its policy config is invalid, with every problem listed;
3 a mandatory policy is violated.

Only the parsers load when the command starts: what a command needs to run (Pulumi,
boto3, the settings' models, the price tables) its handler imports when it runs, so
`--help`, a refused flag and a light command start fast (docs/performance.md).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infra.cli.args import CommandParser, dry_run_option
from infra.cli.failures import EXIT_INVALID, EXIT_REFUSED, EXIT_STOPPED, fail
from infra.ops import cli as ops_cli
from infra.ops import images_refresh, registry_cli
from infra.selfservice import cli as selfservice_cli

if TYPE_CHECKING:
    from rich.console import Console

EXIT_PROGRAM_STOPPED = EXIT_STOPPED
EXIT_INVALID_CONFIG = EXIT_INVALID
EXIT_POLICY_VIOLATION = EXIT_REFUSED
# Commands whose modules import more than their parsers need, and are not for the CLI to change:
# diff's imports the plan engine; drift's imports rich, and lives in the drift job's code folder,
# whose digest every plan records. Each one's parser is built only for a command line that names
# it; other lines list it by its summary here (tests/cli check that the help stays the same).
NAMED_ONLY = {  # command -> its module, the function there that registers its parser, its summary
    "diff": (
        "infra.plan.diff_command", "add_parser",
        "what the working tree changes against a git revision, offline",
    ),
    "drift": (
        "infra.ops.drift.cli", "add_parsers",
        "the drift job's last runs: what drifted; `drift baseline` writes the baseline",
    ),
}  # fmt: skip


def _parser(command: str | None = None) -> CommandParser:
    """Every command's parser; given the ``command`` a command line names ("" for none), those
    in ``NAMED_ONLY`` only if named (the others are cheap to build)."""
    parser = CommandParser(prog="modelfleet", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    def stack_options(command: argparse.ArgumentParser, scope: Any = None) -> None:
        """``--stack`` (in ``scope``, a mutually exclusive group, if given) and ``--stack-file``."""
        (scope or command).add_argument("--stack", default="dev", help="stack name (default: dev)")
        command.add_argument(
            "--stack-file", type=Path, help="read this file instead of stacks/Pulumi.<stack>.yaml"
        )

    plan = commands.add_parser(
        "plan", help="render a stack offline: no credentials, no Pulumi CLI", read_only=True
    )
    stack_options(plan)
    plan.add_argument("--out", type=Path, help="also write the plan as JSON to this file")
    plan.add_argument("--summary", action="store_true", help="counts and outputs only, no tree")
    plan.add_argument(
        "--policy-config",
        type=Path,
        help="policy pack config (default: policies/config/<stack>.json, as --policy-pack-config takes)",
    )

    cost = commands.add_parser(
        "cost",
        help="monthly cost estimate of a stack, per model, component, resource; or $ per million tokens",
        read_only=True,
    )
    cost.add_argument(
        "what",
        nargs="?",
        choices=["tokens"],
        help="tokens: $ per million tokens from a loadtest --json report",
    )
    stack_options(cost)
    cost.add_argument("--lines", action="store_true", help="also list every resource with its basis")
    cost.add_argument("--prices", type=Path, help="price table (default: infra/plan/prices/<region>.json)")
    cost.add_argument("--json", type=Path, dest="json_out", help="also write the estimate as JSON here")
    cost.add_argument("--result", type=Path, help="tokens: the report of `modelfleet loadtest --json`")
    cost.add_argument("--instance-type", help="tokens: what served it: g6.xlarge (EKS node), ml.g5.xlarge")
    cost.add_argument("--region", help="tokens: the price table's region (default: --stack's aws:region)")
    cost.add_argument(
        "--instances", type=int, help="tokens: instances that served it (default: the report's)"
    )
    cost.add_argument("--price-per-hour", type=float, help="tokens: USD per instance-hour, not the table's")
    cost.checks.append(_cost_flags)

    _named_only(commands, "diff", command)

    prices = commands.add_parser("prices", help="price tables for cost estimates")
    prices_commands = prices.add_subparsers(dest="prices_command", required=True)
    prices_refresh = prices_commands.add_parser(
        "refresh", help="rebuild a region's price table from the AWS Price List API (needs credentials)"
    )
    prices_refresh.add_argument("--region", required=True, help="the region to price, e.g. eu-west-1")
    prices_refresh.add_argument(
        "--out", type=Path, help="write here (default: the shipped table of that region)"
    )
    dry_run_option(prices_refresh, "fetch and show which prices would change")

    images_refresh.add_parser(commands)

    export = commands.add_parser(
        "export",
        help="write a stack for IaC scanners: a Terraform plan (AWS) and Kubernetes manifests",
        read_only=True,  # writes only the files it is told to, like plan --out
    )
    every_export = export.add_mutually_exclusive_group()
    stack_options(export, scope=every_export)
    every_export.add_argument("--all", action="store_true", help="every stack in stacks/")
    export.add_argument(
        "--out-dir", type=Path, default=Path("."), help="write <stack>.tfplan.json and <stack>.k8s.yaml here"
    )

    validate = commands.add_parser("validate", help="check stack files without planning", read_only=True)
    every = validate.add_mutually_exclusive_group()
    stack_options(validate, scope=every)
    every.add_argument("--all", action="store_true", help="every stack in stacks/")
    validate.checks.append(
        lambda a: "--stack-file names one stack's file: not with --all" if a.all and a.stack_file else None
    )
    ops_cli.add_parsers(commands)
    _named_only(commands, "drift", command)
    registry_cli.add_parsers(commands)
    selfservice_cli.add_parsers(commands)
    return parser


def _named_only(commands: Any, name: str, command: str | None) -> None:
    """``name``'s parser in full if ``command`` is ``name`` or None, else only its summary."""
    module, register, summary = NAMED_ONLY[name]
    if command is None or command == name:
        getattr(importlib.import_module(module), register)(commands)
    else:
        commands.add_parser(name, help=summary, read_only=True)


TOKEN_FLAGS = {
    "--result": "result", "--instance-type": "instance_type", "--region": "region",
    "--instances": "instances", "--price-per-hour": "price_per_hour",
}  # fmt: skip


def _cost_flags(args: argparse.Namespace) -> str | None:
    """``cost`` and ``cost tokens`` take different flags; one of the other's is refused, not ignored."""
    if args.what != "tokens":
        given = [flag for flag, dest in TOKEN_FLAGS.items() if getattr(args, dest) is not None]
        return f"{', '.join(given)} go with `cost tokens`" if given else None
    if args.lines or args.json_out or args.stack_file:
        return "cost tokens takes no --lines, --json or --stack-file"
    if args.result is None:
        return "cost tokens needs --result <the report of loadtest --json>"
    if args.instance_type is None and args.price_per_hour is None:
        return "cost tokens needs --instance-type (priced from the table) or --price-per-hour"
    return None


def _report_invalid(console: Console, source: str, error: Exception) -> int:
    console.print(f"[red bold]✗ {source}[/]")
    console.print(str(error), markup=False, highlight=False, soft_wrap=True)
    return EXIT_INVALID_CONFIG


def _plan(args: argparse.Namespace, out: Console, err: Console) -> int:
    from infra.plan.cost import PriceTable, estimate  # noqa: PLC0415
    from infra.plan.engine import PlanError, plan_stack  # noqa: PLC0415
    from infra.plan.policy import PolicyConfigError, check_plan, config_path  # noqa: PLC0415
    from infra.plan.policy import load_settings as load_policy_settings  # noqa: PLC0415
    from infra.plan.render import cost_summary, render, render_policy  # noqa: PLC0415
    from infra.settings.errors import SettingsError  # noqa: PLC0415
    from infra.stackfiles.read import StackFileError, find_root  # noqa: PLC0415

    started = time.perf_counter()
    try:
        root = find_root(Path.cwd())
        policy = (
            load_policy_settings(args.policy_config, required=True)
            if args.policy_config
            else load_policy_settings(config_path(root, args.stack))
        )
        plan = plan_stack(args.stack, root=root, stack_file=args.stack_file)
    except PolicyConfigError as error:
        return _report_invalid(err, "policy config", error)
    except (SettingsError, StackFileError) as error:
        return _report_invalid(err, str(args.stack_file or f"stack {args.stack}"), error)
    except PlanError as error:
        err.print(f"[red bold]✗ stack {args.stack} stopped:[/] {error}", highlight=False)
        return EXIT_PROGRAM_STOPPED
    render(plan, out, show_tree=not args.summary)
    if args.out:
        plan.save(args.out)
        out.print(f"Plan written to {args.out}")
    report = check_plan(plan, policy)
    render_policy(report, out)
    summary = cost_summary(estimate(plan, PriceTable.for_region(plan.region)))
    out.print(summary, markup=False, highlight=False, soft_wrap=True)
    out.print(f"[dim]planned and checked offline in {time.perf_counter() - started:.2f} s[/]")
    return EXIT_POLICY_VIOLATION if report.mandatory else 0


def _cost(args: argparse.Namespace, out: Console, err: Console) -> int:
    if args.what == "tokens":
        return _cost_tokens(args, out, err)
    from rich.text import Text  # noqa: PLC0415

    from infra.plan.cost import PriceTable, estimate  # noqa: PLC0415
    from infra.plan.engine import PlanError, plan_stack  # noqa: PLC0415
    from infra.plan.render import cost_summary, cost_tables  # noqa: PLC0415
    from infra.settings.errors import SettingsError  # noqa: PLC0415
    from infra.stackfiles.read import StackFileError, find_root  # noqa: PLC0415

    try:
        plan = plan_stack(args.stack, root=find_root(Path.cwd()), stack_file=args.stack_file)
        table = PriceTable.load(args.prices) if args.prices else PriceTable.for_region(plan.region)
    except (SettingsError, StackFileError) as error:
        return _report_invalid(err, str(args.stack_file or f"stack {args.stack}"), error)
    except PlanError as error:
        err.print(f"[red bold]✗ stack {args.stack} stopped:[/] {error}", highlight=False)
        return EXIT_PROGRAM_STOPPED
    except (OSError, ValueError, KeyError) as error:
        err.print(f"[red bold]✗ price table {args.prices}:[/] {error}", highlight=False)
        return EXIT_INVALID_CONFIG
    report = estimate(plan, table)
    for printed in cost_tables(report, lines=args.lines):
        out.print(printed)
    if table is not None:
        out.print(f"[dim]prices: {table.source}[/]", highlight=False)
        assumed = ", ".join(f"{k}={v}" for k, v in table.assumptions.items())
        out.print(f"[dim]usage assumptions: {assumed}[/]", highlight=False)
    out.print(Text(cost_summary(report), style="bold"), highlight=False, soft_wrap=True)
    if args.json_out:
        args.json_out.write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    return 0


def _stack_region(stack: str) -> str:
    from infra.stackfiles.read import StackFileError, find_root, read_project, read_stack_config  # noqa: PLC0415

    project = read_project(find_root(Path.cwd()))
    region = read_stack_config(project, project.stack_file(stack)).values.get("aws:region")
    if not region:
        raise StackFileError(f"stack {stack} sets no aws:region: pass --region")
    return str(region)


def _cost_tokens(args: argparse.Namespace, out: Console, err: Console) -> int:
    """``cost tokens``: $ per million tokens from a load test's token rate and an instance's price."""
    from infra.ops.errors import InvalidInput  # noqa: PLC0415
    from infra.ops.runtime_load import token_rate  # noqa: PLC0415
    from infra.plan.cost import PRICES_DIR, PriceTable  # noqa: PLC0415
    from infra.plan.token_cost import TokenCostError, hourly_price, usd_per_million_tokens  # noqa: PLC0415
    from infra.stackfiles.read import StackFileError  # noqa: PLC0415

    root = PRICES_DIR.parents[2]  # the checkout or installed tree the shipped price tables live in
    try:
        rate = token_rate(json.loads(args.result.read_text()), str(args.result))
    except OSError as error:  # e.g. "No such file or directory", without Python's "[Errno 2]"
        return fail(err, f"{args.result}: {error.strerror or error}", EXIT_INVALID)
    except ValueError as error:
        return fail(err, f"{args.result}: {error}", EXIT_INVALID)
    except InvalidInput as error:
        return fail(err, str(error), EXIT_INVALID)
    instances = rate.instances if args.instances is None else args.instances
    try:
        if args.price_per_hour is not None:
            price, basis = args.price_per_hour, "--price-per-hour"
        else:
            region = args.region or _stack_region(args.stack)
            path = args.prices or PRICES_DIR / f"{region}.json"
            table = PriceTable.load(path) if args.prices or path.exists() else None
            shown = path.relative_to(root) if path.is_relative_to(root) else path
            key, price = hourly_price(table, args.instance_type, region, str(shown))
            basis = f"{key}, {table.region} on-demand list price of {table.retrieved}"  # type: ignore[union-attr]
        usd = usd_per_million_tokens(price * rate.share, rate.tokens_per_second, instances)
    except (TokenCostError, StackFileError) as error:
        return fail(err, str(error), EXIT_INVALID)
    except (OSError, ValueError, KeyError) as error:
        return fail(err, f"price table {args.prices}: {error}", EXIT_INVALID)
    served = f"{rate.tokens_per_second:,.1f} {rate.tokens} tokens/s on {instances} instance(s)"
    share = ""
    if rate.share < 1:  # copies of an inference component, each a share of an instance
        served = f"{rate.tokens_per_second:,.1f} {rate.tokens} tokens/s on {instances} cop(ies)"
        share = f" x {rate.share:.4f}"
    priced = f"{args.instance_type or 'an instance'}: ${price:.4f} an hour ({basis})"
    for line in (f"{rate.described}: {served}", priced):
        out.print(line, markup=False, highlight=False, soft_wrap=True)
    out.print(
        f"[bold]${usd:,.4f} per million {rate.tokens} tokens[/] = {instances}{share} x ${price:.4f} / "
        f"({rate.tokens_per_second:,.1f} tokens/s x 3600 s) x 1,000,000",
        highlight=False,
        soft_wrap=True,
    )
    return 0


def _prices(args: argparse.Namespace, out: Console, err: Console) -> int:
    import boto3  # noqa: PLC0415 - only this command talks to AWS
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    from infra.plan.cost import PRICES_DIR  # noqa: PLC0415
    from infra.plan.prices_refresh import PRICING_API_REGION, refresh, write_table  # noqa: PLC0415

    target = args.out or PRICES_DIR / f"{args.region}.json"
    previous = json.loads(target.read_text()) if target.exists() else None
    try:
        client = boto3.client("pricing", region_name=PRICING_API_REGION)
        table, missing = refresh(client, args.region, previous)
    except (BotoCoreError, ClientError) as error:
        err.print(f"[red bold]✗ AWS Price List API:[/] {error}", highlight=False)
        return EXIT_PROGRAM_STOPPED
    if args.dry_run:
        changed = _changed_prices((previous or {}).get("prices", {}), table["prices"])
        out.print(f"dry run, nothing written: {len(changed)} of {len(table['prices'])} prices would change "
                  f"in {target}: {', '.join(changed) or 'none'}", markup=False, highlight=False)  # fmt: skip
    else:
        write_table(table, target)
        out.print(f"[green]✓[/] {len(table['prices'])} prices written to {target}")
    if missing:
        out.print(f"[yellow]not returned by the API (previous value kept, if any):[/] {', '.join(missing)}")
    return 0


def _changed_prices(old: dict, new: dict) -> list[str]:
    """Keys whose price a refresh adds, removes or changes (pure)."""
    usd = lambda prices, key: (prices.get(key) or {}).get("usd")  # noqa: E731
    return sorted(k for k in old.keys() | new.keys() if usd(old, k) != usd(new, k))


def _export(args: argparse.Namespace, out: Console, err: Console) -> int:
    from infra.plan import export  # noqa: PLC0415
    from infra.plan.engine import PlanError, plan_stack  # noqa: PLC0415
    from infra.settings.errors import SettingsError  # noqa: PLC0415
    from infra.stackfiles.read import StackFileError, find_root, read_project  # noqa: PLC0415

    try:
        project = read_project(find_root(Path.cwd()))
        for stack in project.stacks() if args.all else [args.stack]:
            plan = plan_stack(stack, root=project.root, stack_file=None if args.all else args.stack_file)
            written = export.write(plan, args.out_dir)
            out.print(f"[green]✓[/] {written.summary()}", highlight=False)
            if written.undecided:
                types = ", ".join(written.undecided_types)
                err.print(f"[yellow]! {stack}: not exported, undecided in infra/plan/export.py:[/] {types}")
    except (SettingsError, StackFileError) as error:
        return _report_invalid(err, str(args.stack_file or f"stack {args.stack}"), error)
    except PlanError as error:
        err.print(f"[red bold]✗ stack stopped:[/] {error}", highlight=False)
        return EXIT_PROGRAM_STOPPED
    return 0


def _validate(args: argparse.Namespace, out: Console, err: Console) -> int:
    """The settings of each stack file, as the program builds them; never the program itself."""
    from infra.settings.platform import SettingsError, load_settings, settings_warnings  # noqa: PLC0415
    from infra.stackfiles.read import StackFileError, find_root, read_project, read_stack_config  # noqa: PLC0415

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
            settings = load_settings(stack, read_stack_config(project, path).values)
        except (SettingsError, StackFileError) as error:
            status = _report_invalid(err, str(path), error)
        else:
            out.print(f"[green]✓[/] {path}")
            for warning in settings_warnings(settings):
                out.print(f"  [yellow]warning:[/] {warning}", highlight=False)
    return status


def _diff(args: argparse.Namespace, out: Console, err: Console) -> int:
    from infra.plan import diff_command  # noqa: PLC0415 - imports the plan engine

    return diff_command.run(args, out, err)


def _drift(args: argparse.Namespace, out: Console, err: Console) -> int:
    from infra.ops.drift import cli as drift_cli  # noqa: PLC0415

    return drift_cli.HANDLERS[args.command](args, out, err)


def command_in(argv: Sequence[str]) -> str:
    """The command an argument list names: its first word that is not a flag (the top level has none)."""
    return next((word for word in argv if not word.startswith("-")), "")


def main(argv: list[str] | None = None) -> int:
    args = _parser(command_in(sys.argv[1:] if argv is None else argv)).parse_args(argv)
    from rich.console import Console  # noqa: PLC0415 - not needed for --help or a refused flag

    out, err = Console(), Console(stderr=True)
    handlers = {
        "plan": _plan,
        "validate": _validate,
        "cost": _cost,
        "prices": _prices,
        "images": images_refresh.run,
        "diff": _diff,
        "export": _export,
        **ops_cli.HANDLERS,
        "drift": _drift,
        **registry_cli.HANDLERS,
        **selfservice_cli.HANDLERS,
    }
    return handlers[args.command](args, out, err)
