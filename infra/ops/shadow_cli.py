"""``modelfleet shadow report`` and ``modelfleet promote --from-shadow`` (see ``infra.ops.shadow``).

Exit codes as the other day-2 commands: 0 the shadow passes (or the edit was made,
or shown by a dry run); 1 it fails, or promotion was refused; 2 invalid input.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from infra.cli.failures import EXIT_STOPPED, fail
from infra.ops import shadow
from infra.ops.clock import Clock, SystemClock
from infra.ops.errors import InvalidInput, OpsError

if TYPE_CHECKING:
    from rich.console import Console

    from infra.ops.drivers.base import ModelTarget

# The p99 source of the report: CloudWatch's own percentile unless set (tests set it: moto
# stores datapoints but computes no percentiles).
P99_SOURCE: shadow.P99Source | None = None
CLOCK: Clock = SystemClock()


def add_shadow_parser(commands: Any, target_options: Any) -> None:
    command = commands.add_parser(
        "shadow", help="compare a shadow variant with production over a window: pass or fail", read_only=True
    )
    command.add_argument(
        "action", choices=["report"], help="report: the shadow against its SLO and production"
    )
    target_options(command)
    window_option(command)


def window_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--window-minutes",
        type=int,
        help=f"minutes of metrics to judge, up to now (default {shadow.DEFAULT_WINDOW_MINUTES})",
    )
    command.checks.append(_window)


def add_promote_options(command: argparse.ArgumentParser) -> None:
    """``promote --from-shadow``: the shadow becomes the canary at weight 0, if its report passes."""
    command.add_argument(
        "--from-shadow",
        action="store_true",
        help="make a passing shadow the canary at weight 0 (a new endpoint configuration)",
    )
    window_option(command)


def _window(args: argparse.Namespace) -> str | None:
    if args.window_minutes is None:
        return None
    if not getattr(args, "from_shadow", True):  # promote without --from-shadow reads no metrics
        return "--window-minutes goes with --from-shadow"
    if not 5 <= args.window_minutes <= 1440 * 14:
        return "--window-minutes must be 5 to 20160 (two weeks: CloudWatch's one-minute data lasts 15 days)"
    return None


def shadow_target(args: argparse.Namespace, capability: str) -> ModelTarget:
    """The model's target, refusing one with no shadow, naming the key it lacks."""
    from infra.ops.target import load_project, resolve  # noqa: PLC0415

    target = resolve(load_project(), args.stack, args.model, args.stack_file, capability)
    model = target.model
    if model.variants.shadow is None:  # only a SageMaker model of its own endpoint takes one
        raise InvalidInput(
            f"model '{model.name}' has no variants.shadow in {target.stack_file}: nothing to compare"
        )
    return target


def window_of(args: argparse.Namespace) -> int:
    return args.window_minutes or shadow.DEFAULT_WINDOW_MINUTES


def report_of(target: ModelTarget, window_minutes: int) -> shadow.ShadowReport:
    from infra.ops.drivers.registry import driver_of  # noqa: PLC0415
    from infra.ops.drivers.sagemaker import SageMakerDriver  # noqa: PLC0415

    driver = driver_of(target)
    if not isinstance(driver, SageMakerDriver):  # the catalog allows shadows on own endpoints only
        raise InvalidInput(f"model '{target.model.name}' is not on an endpoint of its own: it has no shadow")
    until = CLOCK.now()
    variants = [shadow.PRODUCTION, shadow.SHADOW]
    found = driver.read_metrics(target, variants, until - 60 * window_minutes, until)
    production, copy = shadow.pair(found, P99_SOURCE)
    return shadow.judge(production, copy, target.model.slo, target.rollout, window_minutes)


def report(args: argparse.Namespace, out: Console, err: Console) -> int:
    target = shadow_target(args, "shadow report")
    found = report_of(target, window_of(args))
    out.print(f"{target.endpoint_name}: shadow against production", highlight=False)
    for line in found.lines():
        out.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)
    if not found.passed:
        return fail(err, "the shadow does not pass", EXIT_STOPPED)
    return 0


def promote_from_shadow(args: argparse.Namespace, out: Console, err: Console) -> int:
    from rich.markup import escape  # noqa: PLC0415

    from infra.ops.stack_edits import show_and_write  # noqa: PLC0415
    from infra.ops.target import load_project  # noqa: PLC0415
    from infra.stackfiles.edit import StackDocument  # noqa: PLC0415

    target = shadow_target(args, "promotion")
    document = StackDocument.load(load_project(), target.stack, target.stack_file)
    index = document.index_of("modelfleet:models", target.model.name)
    at = ("modelfleet:models", index, "variants")
    edit = shadow.from_shadow_edit(document.get(at), at)
    if args.force:
        out.print(f"[yellow]! forced, the shadow's report is not checked: {escape(args.reason)}[/]")
    else:
        found = report_of(target, window_of(args))
        if not found.passed:
            raise OpsError(
                f"the shadow does not pass its report over the last {window_of(args)} minutes: "
                f"{'; '.join(found.reasons)} (modelfleet shadow report), or pass --force"
            )
    shadow.apply(document, edit)
    document.validate()  # the edited file must still be a valid stack, dry run or not
    if not show_and_write(document, out, args.dry_run):
        return 0
    out.print(f"[green]✓[/] {target.stack_file}: {edit.describe()}. Next, run in order:", soft_wrap=True)
    reason = args.reason if args.force else None
    for command in shadow.next_commands(target.stack, target.model.name, reason, target.stack_file):
        out.print(f"  {command}", markup=False, highlight=False, soft_wrap=True)
    return 0
