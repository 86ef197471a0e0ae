"""``modelfleet drift`` (the last runs of the drift job) and ``modelfleet drift baseline``.

Registered by ``infra.cli.commands``. numpy, scipy and boto3 are imported by the
commands themselves, never when ``modelfleet`` starts.

Exit codes as the day-2 commands': 0 done (a missing baseline or no report yet is
said in one line, and is no error); 1 an AWS call failed; 2 invalid input.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from infra import PROJECT
from infra.cli.args import dry_run_option, positive_int
from infra.ops.cli import Handler, guarded
from infra.ops.errors import InvalidInput
from infra.ops.target import catalog_model, load_project
from infra.specs import naming

DEFAULT_LAST = 5
STACK_TAGS = ("environment", "project")  # infra.specs.tags: the tags that tell whose bucket it is


def _feature_list(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(f"comma-separated feature names, not {text!r}")
    return names


def _drift_flags(args: argparse.Namespace) -> str | None:
    if args.drift_command is None and not (args.stack and args.model):
        return "drift needs --stack and --model"
    if args.drift_command is not None and args.last is not None:
        return "--last goes with `drift`, not `drift baseline`"
    return None


def add_parsers(commands: Any) -> None:
    drift = commands.add_parser(
        "drift", help="the drift job's last runs: what drifted; `drift baseline` writes the baseline",
        read_only=True,
    )  # fmt: skip
    drift.add_argument("--stack", help="stack (environment) name")
    drift.add_argument("--model", help="model name in the stack's catalog")
    drift.add_argument("--stack-file", type=Path, help="this file, not stacks/Pulumi.<stack>.yaml")
    drift.add_argument("--bucket", help="the capture bucket (default: found by the stack's name and tags)")
    drift.add_argument("--last", type=positive_int, help=f"show the last N runs (default {DEFAULT_LAST})")
    drift.checks.append(_drift_flags)
    below = drift.add_subparsers(dest="drift_command", required=False)
    baseline = below.add_parser(
        "baseline", help="compute a model's baseline from a sample dataset and upload it"
    )
    baseline.add_argument("--stack", required=True, help="stack (environment) name")
    baseline.add_argument("--model", required=True, help="model name in the stack's catalog")
    baseline.add_argument("--stack-file", type=Path, help="this file, not stacks/Pulumi.<stack>.yaml")
    baseline.add_argument(
        "--dataset", type=Path, required=True,
        help="sample requests: .csv with a header row (columns in the requests' order) or .jsonl",
    )  # fmt: skip
    baseline.add_argument(
        "--features", type=_feature_list, help="comma-separated columns to watch (default: every column)"
    )
    baseline.add_argument("--bucket", help="the capture bucket (default: found by the stack's name and tags)")
    dry_run_option(baseline, "compute and print the baseline")


def capture_bucket(s3: Any, stack: str) -> str:
    """The stack's data-capture bucket: named with the stack's prefix (Pulumi adds a suffix), tagged
    with its environment. ``InvalidInput`` when none or several are."""
    from botocore.exceptions import ClientError  # noqa: PLC0415

    prefix = naming.name(stack, "capture-", max_length=naming.BUCKET_PREFIX_LIMIT)
    wanted = dict(zip(STACK_TAGS, (stack, PROJECT), strict=True))
    named = [
        bucket["Name"]
        for page in s3.get_paginator("list_buckets").paginate()
        for bucket in page.get("Buckets", [])
        if bucket["Name"].startswith(prefix)
    ]
    found = []
    for name in named:
        try:
            tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=name)["TagSet"]}
        except ClientError:  # untagged, or in a region or account we may not read: not the stack's
            continue
        if all(tags.get(key) == value for key, value in wanted.items()):
            found.append(name)
    if not found:
        raise InvalidInput(
            f"no capture bucket of stack {stack} (named {prefix}..., tagged environment {stack}) "
            "in this account: does a model of the stack capture data? Or pass --bucket"
        )
    if len(found) > 1:
        raise InvalidInput(
            f"stack {stack} has {len(found)} capture buckets ({', '.join(found)}): pass --bucket"
        )
    return found[0]


def _target(args: argparse.Namespace) -> tuple[str, str]:
    """The stack's region and the model's name, both checked against the stack file."""
    region, model = catalog_model(load_project(), args.stack, args.model, args.stack_file)
    return region, model.name


def _s3(region: str) -> Any:
    from infra.ops.clients import client  # noqa: PLC0415

    return client("s3", region)


def _baseline(args: argparse.Namespace, out: Console, err: Console) -> int:
    from infra.ops.drift import baseline as baselines  # noqa: PLC0415 - numpy and scipy
    from infra.ops.drift import store  # noqa: PLC0415

    region, model = _target(args)
    try:
        built = baselines.build(args.dataset, args.features)
    except baselines.DatasetError as error:
        raise InvalidInput(str(error)) from None
    table = Table(
        title=Text(f"baseline of {model}: {built['rows']} rows of {args.dataset}"), title_justify="left"
    )
    for column in ("feature", "kind", "values", "bins", "KS sample"):
        table.add_column(column, justify="left" if column in ("feature", "kind") else "right")
    for name, feature in built["features"].items():
        bins = len(feature["expected"])
        sample = str(len(feature["sample"])) if "sample" in feature else "-"
        table.add_row(*map(Text, (name, feature["kind"], str(feature["rows"]), str(bins), sample)))
    out.print(table)
    key = store.baseline_key(model)
    if args.dry_run:
        where = store.url(args.bucket, key) if args.bucket else f"{key} in the stack's capture bucket"
        out.print(f"dry run: nothing written; would write {where}", markup=False, highlight=False)
        return 0
    s3 = _s3(region)
    bucket = args.bucket or capture_bucket(s3, args.stack)
    store.write_json(s3, bucket, key, built)
    out.print(
        f"[green]✓[/] baseline of {len(built['features'])} features written to {store.url(bucket, key)}"
    )
    return 0


def _psi(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _drift(args: argparse.Namespace, out: Console, err: Console) -> int:
    if args.drift_command == "baseline":
        return _baseline(args, out, err)
    from infra.ops.drift import store  # noqa: PLC0415

    region, model = _target(args)
    s3 = _s3(region)
    bucket = args.bucket or capture_bucket(s3, args.stack)
    baseline_url = store.url(bucket, store.baseline_key(model))
    try:
        store.read_json(s3, bucket, store.baseline_key(model))
    except store.Missing:
        out.print(
            f"no baseline for {model} at {baseline_url}: write one with `modelfleet drift baseline "
            f"--stack {args.stack} --model {model} --dataset <sample.csv>`",
            markup=False, highlight=False, soft_wrap=True,
        )  # fmt: skip
        return 0
    except ValueError as error:
        raise InvalidInput(str(error)) from None
    keys = store.report_keys(s3, bucket, model)[-(args.last or DEFAULT_LAST) :]
    if not keys:
        out.print(
            f"no drift reports for {model} yet under {store.url(bucket, store.reports_prefix(model))}",
            markup=False, highlight=False, soft_wrap=True,
        )  # fmt: skip
        return 0
    reports = []
    for key in keys:
        try:
            reports.append(store.read_json(s3, bucket, key))
        except (store.Missing, ValueError) as error:
            err.print(f"[yellow]! skipped {key}:[/] {error}", highlight=False)
    runs = Table(title=f"drift of {model}: the last {len(reports)} runs", title_justify="left")
    for column in ("run", "window end", "hours", "rows", "undecodable", "compared", "drifted"):
        runs.add_column(
            column, justify="right" if column in ("hours", "rows", "undecodable", "compared") else "left"
        )
    for report in reports:
        drifted = ", ".join(report.get("drifted_features", [])) or "none"
        runs.add_row(
            *map(Text, (
                str(report.get("run_id")), str(report["window"]["end"]), f"{report['window']['hours']:g}",
                str(report.get("rows_compared")), str(report.get("undecodable_records")),
                str(report.get("features_compared")),
            )),
            Text(drifted, style="red" if report.get("drifted_features") else ""),
        )  # fmt: skip
    out.print(runs)
    if reports:
        out.print(_features_table(reports[-1]))
    return 0


def _features_table(report: dict[str, Any]) -> Table:
    table = Table(title=f"features in run {report.get('run_id')}", title_justify="left")
    for column in ("feature", "kind", "values", "PSI", "PSI level", "KS p-value", "drifted", "why"):
        table.add_column(column)
    for result in report.get("features", []):
        pvalue = result.get("ks_pvalue")
        table.add_row(
            *map(Text, (
                str(result["feature"]), str(result["kind"]), str(result.get("values")),
                _psi(result.get("psi")), str(result.get("psi_level", "")),
                "-" if pvalue is None else f"{pvalue:.2g}",
            )),
            Text("yes", style="red") if result.get("drifted") else Text("no"),
            Text(str(result.get("reason", ""))),
        )  # fmt: skip
    return table


HANDLERS: dict[str, Handler] = {"drift": guarded(_drift)}
