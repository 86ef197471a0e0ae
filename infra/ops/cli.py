"""``modelfleet rollout | promote | smoke | loadtest | history``: day-2 commands (``infra.cli.commands``).

Exit codes: 0 done (or nothing to do, or a dry run); 1 the operation failed, was
rolled back or aborted before it completed, timed out or was refused; 2 invalid
input (unknown stack, model or variant, bad flags), with nothing changed.

Registering the parsers imports nothing heavy: each handler imports the drivers,
boto3 and the settings when it runs (``modelfleet rollout --help`` stays fast).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infra.cli.args import dry_run_option, force_options
from infra.cli.failures import EXIT_INVALID, EXIT_STOPPED, fail
from infra.ops import shadow_cli
from infra.ops.clock import Clock, SystemClock
from infra.ops.errors import InvalidInput, OpsError, Refused
from infra.ops.history_cli import add_history_parser, history
from infra.ops.loadtest_cli import add_loadtest_parser, loadtest
from infra.ops.url_target import TARGET_FLAGS, add_runtime_options

if TYPE_CHECKING:
    from rich.console import Console

    from infra.ops import promote
    from infra.ops.drivers.base import ModelTarget, ServingDriver
    from infra.ops.drivers.inference_component import InferenceComponentDriver
    from infra.ops.history import Recorder, Result
    from infra.ops.rollout import Outcome
    from infra.stackfiles.edit import StackDocument

EXIT_FAILED = EXIT_STOPPED
ROLLOUT_ONLY_FLAGS = {"--skip-smoke": "skip_smoke", "--force": "force"}  # -> dest
Handler = Callable[[argparse.Namespace, "Console", "Console"], int]
# What each command asks of the model's driver, as a backend without it names it in its refusal.
CAPABILITIES = {"rollout": "canary rollout", "promote": "promotion", "smoke": "smoke test"}


def _history_result(outcome: Outcome) -> tuple[Result, str]:
    """How an outcome of a rollout or rolling update is kept in the history (a dry run keeps none),
    and the record's message where the outcome says more than the last step's gate reasons."""
    from infra.ops.history import Result  # noqa: PLC0415
    from infra.ops.rollout import Outcome  # noqa: PLC0415

    results = {
        Outcome.PLANNED: Result.UNCHANGED,
        Outcome.UNCHANGED: Result.UNCHANGED,
        Outcome.COMPLETED: Result.SUCCEEDED,
        Outcome.ROLLED_BACK: Result.ROLLED_BACK,
        Outcome.ABORTED: Result.ABORTED,
    }
    notes = {
        Outcome.UNCHANGED: "nothing to do",
        Outcome.ABORTED: "stopped: rollout abort returned the traffic to stable",
    }
    return results[outcome], notes.get(outcome, "")


SMOKE_URL_FLAGS = {
    **TARGET_FLAGS,
    "--payload": "payload",
    "--content-type": "content_type",
    "--timeout-seconds": "timeout_seconds",
}


def target_options(command: argparse.ArgumentParser, model_required: bool = True) -> None:
    command.add_argument("--stack", required=model_required, help="stack (environment) name")
    command.add_argument("--model", required=model_required, help="model name in the stack's catalog")
    command.add_argument("--stack-file", type=Path, help="this file, not stacks/Pulumi.<stack>.yaml")


def target_of(args: argparse.Namespace) -> ModelTarget:
    from infra.ops.target import load_project, resolve  # noqa: PLC0415

    capability = "rollout abort" if getattr(args, "action", None) == "abort" else CAPABILITIES[args.command]
    return resolve(load_project(), args.stack, args.model, args.stack_file, capability)


def guarded(handler: Handler) -> Handler:
    """One clear message and an exit code for every expected failure; never a traceback."""

    def run(args: argparse.Namespace, out: Console, err: Console) -> int:
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        from infra.settings.errors import SettingsError  # noqa: PLC0415
        from infra.stackfiles.edit import StackEditError  # noqa: PLC0415
        from infra.stackfiles.read import StackFileError  # noqa: PLC0415

        try:
            return handler(args, out, err)
        except (InvalidInput, SettingsError, StackFileError, StackEditError) as error:
            return fail(err, str(error), EXIT_INVALID)
        except OpsError as error:
            return fail(err, str(error), EXIT_FAILED)
        except (BotoCoreError, ClientError) as error:
            return fail(err, f"AWS call failed: {error}", EXIT_FAILED)
        except KeyboardInterrupt:
            return fail(err, "interrupted: the endpoint stays as it is; run again to resume, or abort", 1)

    return run


def _rollout(args: argparse.Namespace, out: Console, err: Console) -> int:
    from infra.ops.drivers.inference_component import InferenceComponentDriver  # noqa: PLC0415
    from infra.ops.drivers.registry import driver_of  # noqa: PLC0415
    from infra.ops.rollout import Rollout  # noqa: PLC0415

    target = target_of(args)
    driver = driver_of(target)
    if isinstance(driver, InferenceComponentDriver):
        return _component_rollout(args, target, driver, out, err)
    runner = Rollout(target, driver, out, forced_reason=args.reason if args.force else None)
    with _recorded(args, target, err, runner.clock) as record:
        runner.history = record.steps
        if args.action != "abort":  # back to stable needs no approval; a new version does
            _registry_gate(target, driver)
        if args.action == "abort":
            outcome = runner.abort(dry_run=args.dry_run)
        else:
            outcome = runner.run(dry_run=args.dry_run, skip_smoke=args.skip_smoke)
        record.finish(*_history_result(outcome))
    if not outcome.succeeded:
        return fail(err, f"the rollout was {outcome.value} and did not complete", EXIT_FAILED)
    return 0


def _component_rollout(
    args: argparse.Namespace,
    target: ModelTarget,
    driver: InferenceComponentDriver,
    out: Console,
    err: Console,
) -> int:
    """A placed model: a rolling update of its inference component, which SageMaker rolls back itself."""
    from infra.ops.component_rollout import ComponentRollout  # noqa: PLC0415

    if args.force or args.skip_smoke:
        given = ", ".join(
            flag for flag, on in (("--force", args.force), ("--skip-smoke", args.skip_smoke)) if on
        )
        raise InvalidInput(
            f"model '{target.model.name}' runs as inference component {target.inference_component}: "
            f"its rolling update takes no {given} (SageMaker gates it on the rollback alarms)"
        )
    runner = ComponentRollout(target, driver, out)
    with _recorded(args, target, err, runner.clock) as record:
        runner.history = record.steps
        outcome = (
            runner.abort(dry_run=args.dry_run) if args.action == "abort" else runner.run(dry_run=args.dry_run)
        )
        record.finish(*_history_result(outcome))
    if not outcome.succeeded:
        return fail(err, f"the rolling update was {outcome.value} and did not complete", EXIT_FAILED)
    return 0


def _smoke(args: argparse.Namespace, out: Console, err: Console) -> int:
    from infra.ops import url_smoke  # noqa: PLC0415
    from infra.ops.drivers.inference_component import InferenceComponentDriver  # noqa: PLC0415
    from infra.ops.drivers.registry import driver_of  # noqa: PLC0415

    if args.url:
        return url_smoke.run(args, out, err)
    if not (args.stack and args.model):
        raise InvalidInput("smoke needs --stack and --model (what the stack deployed), or --url")
    target = target_of(args)
    driver = driver_of(target)
    if not isinstance(driver, InferenceComponentDriver):
        target.require_variant(args.variant)
    result = driver.smoke(target, args.variant)
    where = f"{target.endpoint_name}/{result.invoked_variant or args.variant or 'any variant'}"
    if result.ok:
        out.print(f"[green]✓[/] {where}: 200 in {result.latency_ms:.0f} ms, response as expected")
        return 0
    return fail(err, f"{where}: {'; '.join(result.problems)}", EXIT_FAILED)


def _promote(args: argparse.Namespace, out: Console, err: Console) -> int:
    from infra.ops import promote  # noqa: PLC0415
    from infra.ops.component_rollout import ComponentRollout  # noqa: PLC0415
    from infra.ops.drivers.inference_component import InferenceComponentDriver  # noqa: PLC0415
    from infra.ops.drivers.registry import driver_of  # noqa: PLC0415
    from infra.ops.history import Result  # noqa: PLC0415
    from infra.ops.target import load_project  # noqa: PLC0415
    from infra.stackfiles.edit import StackDocument  # noqa: PLC0415

    if args.from_shadow:
        return shadow_cli.promote_from_shadow(args, out, err)
    target = target_of(args)
    driver = driver_of(target)
    if isinstance(driver, InferenceComponentDriver):
        if args.force:
            raise InvalidInput(
                f"model '{target.model.name}' runs as inference component {target.inference_component}: "
                "promote only checks that every copy runs the stack file's version; there is nothing to force"
            )
        runner = ComponentRollout(target, driver, out)
        with _recorded(args, target, err, runner.clock) as record:
            runner.history = record.steps
            runner.promote()
            record.finish(Result.SUCCEEDED, "every copy runs the stack file's version: nothing to edit")
        return 0
    if not target.has_canary:
        raise InvalidInput(f"model '{target.model.name}' has no canary to promote in {target.stack_file}")
    document = StackDocument.load(load_project(), target.stack, target.stack_file)
    index = document.index_of("modelfleet:models", target.model.name)
    at = ("modelfleet:models", index, "variants")
    edit = promote.promote_edit(document.get(at), at)
    with _recorded(args, target, err, SystemClock()) as record:
        _registry_gate(target, driver)
        _promote_edit(args, target, driver, document, edit, out)
        record.steps.note(f"stack file edited: {edit.phase}")
        record.finish(Result.SUCCEEDED, f"{edit.phase} written to {target.stack_file}; next: pulumi up")
    return 0


def _registry_gate(target: ModelTarget, driver: ServingDriver) -> None:
    """A registry version that is not Approved gets no traffic and no promotion, forced or not."""
    if problem := driver.registry_refusal(target):
        raise Refused(problem)


def _promote_edit(
    args: argparse.Namespace,
    target: ModelTarget,
    driver: ServingDriver,
    document: StackDocument,
    edit: promote.PromoteEdit,
    out: Console,
) -> None:
    from rich.markup import escape  # noqa: PLC0415

    from infra.ops import promote  # noqa: PLC0415
    from infra.ops.stack_edits import show_and_write  # noqa: PLC0415

    if args.force:
        out.print(f"[yellow]! forced, the live endpoint is not checked: {escape(args.reason)}[/]")
    else:
        problem = driver.promotion_problem(target, edit.phase)
        if problem:
            raise Refused(problem)
    promote.apply(document, edit)
    if not show_and_write(document, out, args.dry_run):
        return
    what = "stable runs the canary's version; canary weight 0" if edit.phase == "shift" else "canary removed"
    out.print(f"[green]✓[/] {target.stack_file}: {what}. Next, run in order:", soft_wrap=True)
    reason = args.reason if args.force else None
    for command in promote.next_commands(
        target.stack, target.model.name, edit.phase, reason, target.stack_file
    ):
        out.print(f"  {command}", markup=False, highlight=False, soft_wrap=True)


def _recorded(args: argparse.Namespace, target: ModelTarget, err: Console, clock: Clock) -> Recorder:
    """The command's record in the rollout history (``infra.ops.history``); a dry run writes none."""
    from infra.ops.history import Recorder  # noqa: PLC0415

    command = "abort" if getattr(args, "action", None) == "abort" else args.command
    return Recorder(target, command, args.reason, err, clock, dry_run=args.dry_run)


def _smoke_url_flags(args: argparse.Namespace) -> str | None:
    """Flags describing a --url target mean nothing to an endpoint's smoke test; --variant the reverse."""
    url_only = [flag for flag, dest in SMOKE_URL_FLAGS.items() if getattr(args, dest) is not None]
    if url_only and not args.url:
        return f"{', '.join(url_only)} go with --url"
    if args.url and args.variant:
        return "--variant picks a SageMaker variant: not with --url"
    return None


def _abort_takes_no_rollout_flags(args: argparse.Namespace) -> str | None:
    """``rollout abort`` only moves traffic back: flags that steer a rollout would be ignored."""
    given = [flag for flag, dest in ROLLOUT_ONLY_FLAGS.items() if getattr(args, dest)]
    if args.action == "abort" and args.force:
        given.append("--reason")  # it goes with --force here; alone, it is the abort's own reason
    if args.action == "abort" and given:
        return f"rollout abort takes no {', '.join(given)}"
    return None


def add_parsers(commands: Any) -> None:
    rollout = commands.add_parser(
        "rollout", help="shift traffic to the canary step by step, gated; a placed model: a rolling update"
    )
    rollout.add_argument(
        "action",
        nargs="?",
        choices=["abort"],
        help="abort: all traffic back to stable, or roll the update back",
    )
    target_options(rollout)
    dry_run_option(rollout, "print the plan (with abort: the split it would reset)")
    rollout.add_argument("--skip-smoke", action="store_true", help="do not smoke-test the canary first")
    force_options(rollout, "start although the canary's alarms are missing or in ALARM (not watched then)")
    rollout.checks.append(_abort_takes_no_rollout_flags)

    promote_parser = commands.add_parser(
        "promote",
        help="make the canary's version stable in the stack file (a placed model: check its copies)",
    )
    target_options(promote_parser)
    dry_run_option(promote_parser, "show the edit")
    force_options(promote_parser, "skip the checks of the live endpoint")
    shadow_cli.add_promote_options(promote_parser)

    smoke_parser = commands.add_parser(
        "smoke", help="one request to the endpoint, or to --url as its runtime expects", read_only=True
    )
    target_options(smoke_parser, model_required=False)
    smoke_parser.add_argument(
        "--variant", help="invoke this variant only (TargetVariant; on EKS, the X-Modelfleet-Variant header)"
    )
    smoke_parser.add_argument("--url", help="the server itself, e.g. http://127.0.0.1:8000 (a port-forward)")
    add_runtime_options(smoke_parser)
    smoke_parser.add_argument("--payload", help="--url: the request body (default: the runtime's sample)")
    smoke_parser.add_argument("--content-type", help="--url, runtime modelfleet: the body's content type")
    smoke_parser.add_argument("--timeout-seconds", type=float, help="--url: answer within (default 60)")
    smoke_parser.checks.append(_smoke_url_flags)

    add_loadtest_parser(commands, target_options)
    add_history_parser(commands)
    shadow_cli.add_shadow_parser(commands, target_options)


HANDLERS: dict[str, Handler] = {
    "rollout": guarded(_rollout),
    "promote": guarded(_promote),
    "smoke": guarded(_smoke),
    "loadtest": guarded(loadtest),
    "history": guarded(history),
    "shadow": guarded(shadow_cli.report),
}
