"""``modelfleet diff``: what a change does to each stack, for a terminal, a PR comment or a script.

``--format text`` is complete; ``--format markdown`` fits a PR comment (or, with
``--for summary``, a job summary) and links to the whole diff when it leaves
detail out; ``--format json`` is the whole diff, which ``--from`` renders again
without planning anything.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infra.cli.failures import EXIT_INVALID, EXIT_STOPPED, fail

if TYPE_CHECKING:
    from rich.console import Console

FILE_WIDTH = 120  # columns of a text diff written to a file


class DiffFileError(Exception):
    """``--from`` names a file that is not a saved diff."""


def add_parser(commands: Any) -> None:
    diff = commands.add_parser(
        "diff", help="what the working tree changes against a git revision, offline", read_only=True
    )
    source = diff.add_mutually_exclusive_group(required=True)
    source.add_argument("--base", help="git revision to compare against, e.g. origin/main")
    source.add_argument(
        "--from", type=Path, dest="from_json", help="render a saved `--format json` diff again"
    )
    which = diff.add_mutually_exclusive_group()
    which.add_argument("--stack", default="dev", help="stack name (default: dev)")
    which.add_argument("--all", action="store_true", help="every stack in stacks/")
    diff.add_argument("--format", choices=["text", "markdown", "json"], default="text")
    diff.add_argument(
        "--for",
        dest="markdown_for",
        choices=["comment", "summary"],
        default="comment",
        help="markdown size: a PR comment (65,536 characters) or a job summary (1 MiB, whole values)",
    )
    diff.add_argument("--summary-url", help="link to the job summary with the whole diff (markdown)")
    diff.add_argument("--artifact-url", help="link to the artifact with the JSON diff (markdown)")
    diff.add_argument("--out", type=Path, help="write the rendered diff here instead of stdout")
    diff.add_argument("--head-label", default="working tree", help="what to call the compared tree")


def _source(args: argparse.Namespace) -> tuple[str, list]:
    """The stack diffs to show: planned now against ``--base``, or read back from ``--from``."""
    from infra.plan.compare import compare  # noqa: PLC0415 - plans only when asked to
    from infra.plan.diff import StackDiff  # noqa: PLC0415
    from infra.stackfiles.read import find_root, read_project  # noqa: PLC0415

    if args.from_json:
        try:
            data = json.loads(args.from_json.read_text(encoding="utf-8"))
            return data["base"], [StackDiff.from_dict(d) for d in data["stacks"]]
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            problem = f"{args.from_json}: not a `modelfleet diff --format json` file ({error})"
            raise DiffFileError(problem) from error
    root = find_root(Path.cwd())
    stacks = read_project(root).stacks() if args.all else [args.stack]
    return args.base, compare(root, args.base, stacks)


def _markdown(args: argparse.Namespace, diffs: list, base: str) -> str:
    from infra.plan import markdown  # noqa: PLC0415

    links = markdown.Links(args.summary_url, args.artifact_url)
    if args.markdown_for == "summary":
        limit, width = markdown.STEP_SUMMARY_LIMIT, None
    else:
        limit, width = markdown.GITHUB_COMMENT_LIMIT, markdown.VALUE_WIDTH
    return markdown.render(diffs, base, args.head_label, links=links, limit=limit, width=width)


def run(args: argparse.Namespace, out: Console, err: Console) -> int:
    # Imported here, so `modelfleet diff --help` loads neither the engine nor the settings.
    from rich.console import Console  # noqa: PLC0415

    from infra.plan import diff_text  # noqa: PLC0415
    from infra.plan.engine import PlanError  # noqa: PLC0415
    from infra.plan.policy import PolicyConfigError  # noqa: PLC0415
    from infra.settings.platform import SettingsError  # noqa: PLC0415
    from infra.stackfiles.read import StackFileError  # noqa: PLC0415

    try:
        base, diffs = _source(args)
    except DiffFileError as error:
        return fail(err, str(error), EXIT_INVALID)
    except (SettingsError, StackFileError, PolicyConfigError) as error:
        err.print("[red bold]✗ working tree[/]")
        err.print(str(error), markup=False, highlight=False, soft_wrap=True)
        return EXIT_INVALID
    except PlanError as error:  # a base revision that cannot be read or planned, too
        return fail(err, f"diff against {args.base}: {error}", EXIT_STOPPED)
    if args.format == "text":
        if not args.out:
            diff_text.render(out, diffs, base, args.head_label)
            return 0
        try:
            with args.out.open("w", encoding="utf-8") as handle:
                console = Console(file=handle, width=FILE_WIDTH, color_system=None, emoji=False)
                diff_text.render(console, diffs, base, args.head_label)
        except OSError as error:
            return fail(err, f"cannot write {args.out}: {error.strerror or error}", EXIT_INVALID)
        out.print(f"Diff written to {args.out}", markup=False, highlight=False)
        return 0
    if args.format == "json":
        text = json.dumps({"base": base, "stacks": [d.to_dict() for d in diffs]}, indent=2, default=str)
    else:
        text = _markdown(args, diffs, base)
    if args.out:
        try:  # markdown already ends in a newline: one more could pass GitHub's limit
            args.out.write_text(text if args.format == "markdown" else text + "\n", encoding="utf-8")
        except OSError as error:
            return fail(err, f"cannot write {args.out}: {error.strerror or error}", EXIT_INVALID)
        out.print(f"Diff written to {args.out} ({len(text):,} characters)", markup=False, highlight=False)
    else:
        out.print(text, markup=False, highlight=False, soft_wrap=True)
    return 0
