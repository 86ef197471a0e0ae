"""``modelfleet loadtest``: find the rate one instance sustains inside the SLO, and size autoscaling.

Against a local container (``--url``, loopback only) or a SageMaker endpoint
(``--endpoint``, divided by its instance count). ``--write`` stores the
recommended target in the stack file through ``infra.stackfiles.edit``. A
``--url`` serving vLLM or TEI (``--runtime``, or the catalog model's) gets a load
test of its own instead: ``infra.ops.runtime_load_cli``; so does a vllm model on a
shared SageMaker endpoint, named by ``--stack`` and ``--model`` alone:
``infra.ops.component_load_cli``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from infra.cli.args import dry_run_option
from infra.contracts import serving
from infra.contracts.runtimes import Runtime
from infra.ops import component_load_cli, runtime_load_cli
from infra.ops.errors import InvalidInput
from infra.ops.loadtest import LoadPlan, check_local_url, find_rate, http_sender
from infra.ops.sizing import StepResult, rate_at_slo, rate_schedule, recommend_target
from infra.ops.url_target import TARGET_FLAGS, add_runtime_options, url_target

if TYPE_CHECKING:
    from rich.console import Console

    from infra.ops.drivers.base import ModelTarget

TARGET_KEY = "target_invocations_per_instance_per_minute"
# The rate search's defaults: its flags default to None so that a vllm or tei load test can refuse them.
RATE_SEARCH = LoadPlan()
HEADROOM = 0.5  # AWS's load-testing guidance


def add_loadtest_parser(commands: Any, target_options: Callable[..., None]) -> None:
    command = commands.add_parser("loadtest", help="constant-rate load: rate within SLO, autoscaling target")
    # Neither: --stack and --model of a vllm model on a shared endpoint (its inference component).
    where = command.add_mutually_exclusive_group()
    where.add_argument("--url", help=f"a local model server, e.g. http://127.0.0.1:{serving.PORT}")
    where.add_argument("--endpoint", help="a SageMaker endpoint name (real AWS)")
    target_options(command, model_required=False)
    command.add_argument("--region", help="AWS region for --endpoint without --stack")
    command.add_argument("--payload", help="request body (default: the model's rollout.sample_payload)")
    command.add_argument("--content-type", help="request content type (default: the model's)")
    command.add_argument("--slo-p99-ms", type=float, help="p99 objective (default: the model's slo)")
    command.add_argument("--max-error-percent", type=float, help="error objective (default: the model's slo)")
    command.add_argument(
        "--start-rate", type=float, help=f"requests/s of the first step (default {RATE_SEARCH.start_rate:g})"
    )
    command.add_argument(
        "--max-rate", type=float, help=f"requests/s never exceeded (default {RATE_SEARCH.max_rate:g})"
    )
    command.add_argument("--factor", type=float, help=f"rate growth a step (default {RATE_SEARCH.factor:g})")
    command.add_argument(
        "--step-seconds", type=float, help=f"duration of each step (default {RATE_SEARCH.step_seconds:g})"
    )
    command.add_argument(
        "--max-requests-per-step", type=int, help=f"(default {RATE_SEARCH.max_requests_per_step})"
    )
    command.add_argument(
        "--max-inflight", type=int, help=f"requests in flight, at most (default {RATE_SEARCH.max_inflight})"
    )
    command.add_argument(
        "--timeout-seconds",
        type=float,
        help=f"a slower request is a failure (default {RATE_SEARCH.timeout_seconds:g}; vllm/tei: "
        f"{runtime_load_cli.DEFAULTS.timeout_seconds:g})",
    )
    command.add_argument(
        "--headroom", type=float, help=f"fraction kept free (default {HEADROOM:g}, AWS's guidance)"
    )
    command.add_argument("--instances", type=int, help="instances under load (default: 1 or the endpoint's)")
    command.add_argument("--write", action="store_true", help="store the target in the stack file")
    add_runtime_options(command)
    runtime_load_cli.add_options(command)
    component_load_cli.add_options(command)
    dry_run_option(command, "print the objectives and the rates (or requests) it would offer; send nothing")
    command.checks.append(_unused_flags)


def _unused_flags(args: argparse.Namespace) -> str | None:
    """Flags that only mean something beside another, refused alone rather than ignored."""
    if not (args.url or args.endpoint or (args.stack and args.model)):
        return "loadtest needs --url, --endpoint, or --stack and --model of a vllm model on a shared endpoint"
    if args.copies is not None and (args.url or args.endpoint):
        return "--copies goes with --stack and --model of a model on a shared endpoint (no --url/--endpoint)"
    if args.region and not args.endpoint:
        return "--region goes with --endpoint (--url is local; --stack brings its own region)"
    if args.stack_file and not args.stack:
        return "--stack-file goes with --stack and --model"
    url_only = [flag for flag, dest in TARGET_FLAGS.items() if getattr(args, dest)]
    if url_only and not args.url:
        return f"{', '.join(url_only)} go with --url (a SageMaker endpoint serves runtime modelfleet)"
    return None


def _objectives(args: argparse.Namespace, target: ModelTarget | None) -> tuple[bytes, str, str, float, float]:
    rollout = target.rollout if target else None
    payload = args.payload or (rollout.sample_payload if rollout else None)
    if payload is None:
        raise InvalidInput("no request body: pass --payload, or --stack/--model with rollout.sample_payload")
    content_type = args.content_type or (rollout.sample_content_type if rollout else "application/json")
    accept = rollout.sample_accept if rollout else "*/*"
    p99 = args.slo_p99_ms or (target.model.slo.p99_latency_ms if target else None)
    errors = args.max_error_percent or (target.model.slo.error_rate_percent if target else 1.0)
    if p99 is None:
        raise InvalidInput("no p99 objective: pass --slo-p99-ms, or --stack/--model")
    return payload.encode(), content_type, accept, float(p99), float(errors)


def _or(value: float | None, default: float) -> float:
    return default if value is None else value


def _plan(args: argparse.Namespace) -> LoadPlan:
    d = RATE_SEARCH
    plan = LoadPlan(
        _or(args.start_rate, d.start_rate), _or(args.max_rate, d.max_rate), _or(args.factor, d.factor),
        _or(args.step_seconds, d.step_seconds), int(_or(args.max_requests_per_step, d.max_requests_per_step)),
        int(_or(args.max_inflight, d.max_inflight)), _or(args.timeout_seconds, d.timeout_seconds),
    )  # fmt: skip
    if not (0 < plan.start_rate <= plan.max_rate and plan.factor > 1 and plan.step_seconds > 0):
        raise InvalidInput("rates need 0 < --start-rate <= --max-rate, --factor > 1, --step-seconds > 0")
    if not (0 <= _headroom(args) < 1 and 1 <= plan.max_inflight <= 4096 and plan.max_requests_per_step >= 1):
        raise InvalidInput("--headroom is 0 to below 1; --max-inflight 1-4096; --max-requests-per-step >= 1")
    return plan


def _headroom(args: argparse.Namespace) -> float:
    return _or(args.headroom, HEADROOM)


def _report(step: StepResult, ok: bool, out: Console) -> None:
    p50 = f"{step.p50_ms:.1f}" if step.p50_ms is not None else "-"
    p99 = f"{step.p99_ms:.1f}" if step.p99_ms is not None else "-"
    verdict = "[green]within SLO[/]" if ok else "[red]outside SLO[/]"
    out.print(
        f"  {step.offered_rate:8.1f} req/s offered  {step.throughput:8.1f} ok/s  p50 {p50} ms  "
        f"p99 {p99} ms  errors {step.error_rate_percent:.2f} %  {verdict}",
        highlight=False,
    )


async def _drive(
    args: argparse.Namespace,
    plan: LoadPlan,
    body: bytes,
    kinds: tuple[str, str],
    slo: tuple[float, float],
    out: Console,
    target: ModelTarget | None,
) -> list[StepResult]:
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

    import httpx  # noqa: PLC0415

    from infra.ops.drivers import sagemaker  # noqa: PLC0415

    content_type, accept = kinds
    report = lambda step, ok: _report(step, ok, out)  # noqa: E731
    if args.url:
        limits = httpx.Limits(max_connections=plan.max_inflight, max_keepalive_connections=plan.max_inflight)
        async with httpx.AsyncClient(base_url=check_local_url(args.url), limits=limits, timeout=None) as http:
            return await find_rate(http_sender(http, body, content_type, accept), plan, *slo, on_step=report)
    region = _region(args, target)
    with ThreadPoolExecutor(max_workers=min(plan.max_inflight, 64)) as pool:
        send = sagemaker.endpoint_sender(region, pool, args.endpoint, body, content_type, accept)
        return await find_rate(send, plan, *slo, on_step=report)


def _region(args: argparse.Namespace, target: ModelTarget | None) -> str:
    region = args.region or (target.region if target else None)
    if region is None:
        raise InvalidInput("--endpoint needs --region, or --stack/--model")
    return region


def _instances(args: argparse.Namespace, target: ModelTarget | None) -> int:
    if args.instances is not None:
        if args.instances < 1:
            raise InvalidInput("--instances must be at least 1")
        return args.instances
    if args.url:
        return 1
    from infra.ops.drivers import sagemaker  # noqa: PLC0415

    return sagemaker.endpoint_instance_count(_region(args, target), args.endpoint)


def loadtest(args: argparse.Namespace, out: Console, err: Console) -> int:
    import asyncio  # noqa: PLC0415

    from rich.markup import escape  # noqa: PLC0415

    from infra.ops.target import load_project, resolve  # noqa: PLC0415

    if not (args.url or args.endpoint):
        return component_load_cli.run(args, out, err)
    if args.url:
        try:
            base_url = check_local_url(args.url)
        except ValueError as error:
            raise InvalidInput(str(error)) from None
        runtime_target, model = url_target(args, base_url)
        if runtime_target.runtime is not Runtime.MODELFLEET:
            return runtime_load_cli.run(args, runtime_target, model, out, err)
    extra = runtime_load_cli.given(args, runtime_load_cli.RUNTIME_LOAD_FLAGS)
    if extra:
        raise InvalidInput(f"{', '.join(extra)}: flags of a vllm or tei load test (--url with --runtime)")
    if bool(args.stack) != bool(args.model):
        raise InvalidInput("--stack and --model go together")
    if args.write and not args.stack:
        raise InvalidInput("--write needs --stack and --model: it stores the target in that stack file")
    target = (
        resolve(load_project(), args.stack, args.model, args.stack_file, "load test") if args.stack else None
    )
    body, content_type, accept, p99, errors = _objectives(args, target)
    plan = _plan(args)
    instances = _instances(args, target)
    where = escape(args.url or args.endpoint)
    out.print(f"[bold]{where}[/]: SLO p99 ≤ {p99:g} ms, errors ≤ {errors:g} %; {instances} instance(s)")
    if args.dry_run:
        _show_dry_run(plan, target if args.write else None, out)
        return 0
    steps = asyncio.run(_drive(args, plan, body, (content_type, accept), (p99, errors), out, target))
    best = rate_at_slo(steps, p99, errors)
    if best is None:
        out.print(f"[red]no rate met the SLO (from {plan.start_rate:g} req/s): nothing recommended[/]")
        return 1
    per_instance = best / instances
    headroom = _headroom(args)
    recommended = recommend_target(per_instance, headroom)
    out.print(
        f"highest rate within SLO: {best:.1f} req/s, {per_instance:.1f} per instance\n"
        f"{TARGET_KEY} = floor({per_instance:.1f} x 60 x (1 - {headroom:g})) = [bold]{recommended}[/]",
        highlight=False,
    )
    if args.write and target is not None:
        _write(target, recommended, out)
    return 0


def _show_dry_run(plan: LoadPlan, written_to: ModelTarget | None, out: Console) -> None:
    rates = ", ".join(f"{r:.1f}" for r in rate_schedule(plan.start_rate, plan.factor, plan.max_rate))
    out.print(
        f"dry run, nothing sent: {plan.step_seconds:g} s steps at {rates} req/s until the SLO breaks, "
        f"then {plan.refine_steps} bisections",
        highlight=False,
    )
    if written_to is not None:
        out.print(f"--write would store autoscaling.{TARGET_KEY} in {written_to.stack_file}; nothing written")


def _write(target: ModelTarget, recommended: int, out: Console) -> None:
    from infra.ops.target import load_project  # noqa: PLC0415
    from infra.stackfiles.edit import StackDocument  # noqa: PLC0415

    document = StackDocument.load(load_project(), target.stack, target.stack_file)
    index = document.index_of("modelfleet:models", target.model.name)
    if not isinstance(document.get(("modelfleet:models", index, "autoscaling"), None), dict):
        raise InvalidInput(f"model '{target.model.name}' has no autoscaling block to write the target into")
    document.set(("modelfleet:models", index, "autoscaling", TARGET_KEY), recommended)
    changed = document.save()
    note = "written to" if changed else "already in"
    out.print(f"[green]✓[/] autoscaling.{TARGET_KEY}: {recommended} {note} {target.stack_file}")
