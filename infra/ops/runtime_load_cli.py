"""``modelfleet loadtest --url ... --runtime vllm|tei``: load at a fixed concurrency, and its report.

For vLLM: requests/s, output tokens/s, time to first token, inter-token latency and
end-to-end latency (p50, p95, p99), errors. For TEI: requests/s, inputs/s (and
input tokens/s when the answers report usage), latency, errors. ``--json`` writes
the report for ``modelfleet cost tokens``. The run fails (exit 1) when errors or
the p99 break the objectives: the flags', else the model's SLO, else 1 % errors.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infra.cli.failures import EXIT_STOPPED, fail
from infra.contracts.runtimes import Request
from infra.ops.errors import InvalidInput
from infra.ops.protocols.requests import RuntimeTarget, body_text, build
from infra.ops.runtime_load import (
    LoadBounds,
    LoadReport,
    Percentiles,
    objective_problems,
    run_load,
    summarize,
)

if TYPE_CHECKING:
    from rich.console import Console

    from infra.ops.protocols.client import Clock
    from infra.settings.catalog import ModelBase

DEFAULTS = LoadBounds()
DEFAULT_MAX_TOKENS = 128  # output tokens per completion: a chat answer's length
# Flags of this kind of load test only (-> argparse dest), refused by the rate search.
RUNTIME_LOAD_FLAGS = {
    "--concurrency": "concurrency", "--requests": "requests", "--duration-seconds": "duration_seconds",
    "--max-tokens": "max_tokens", "--json": "json_out",
}  # fmt: skip
# The rate search's own flags (-> dest), refused here.
RATE_SEARCH_FLAGS = {
    "--start-rate": "start_rate", "--max-rate": "max_rate", "--factor": "factor",
    "--step-seconds": "step_seconds", "--max-requests-per-step": "max_requests_per_step",
    "--max-inflight": "max_inflight", "--headroom": "headroom", "--write": "write",
}  # fmt: skip


def add_options(command: argparse.ArgumentParser) -> None:
    """The flags of a vllm or tei load test."""
    command.add_argument(
        "--concurrency", type=int, help=f"vllm/tei: requests in flight (default {DEFAULTS.concurrency})"
    )
    command.add_argument("--requests", type=int, help=f"vllm/tei: sent at most (default {DEFAULTS.requests})")
    command.add_argument(
        "--duration-seconds",
        type=float,
        help=f"vllm/tei: no request starts after this (default {DEFAULTS.duration_seconds:g})",
    )
    command.add_argument(
        "--max-tokens", type=int, help=f"vllm: output tokens per completion (default {DEFAULT_MAX_TOKENS})"
    )
    command.add_argument("--json", type=Path, dest="json_out", help="vllm/tei: also write the report here")


def given(args: argparse.Namespace, flags: dict[str, str]) -> list[str]:
    return [flag for flag, dest in flags.items() if getattr(args, dest, None) not in (None, False)]


def bounds(args: argparse.Namespace) -> LoadBounds:
    pick = lambda value, default: default if value is None else value  # noqa: E731
    chosen = LoadBounds(
        pick(args.concurrency, DEFAULTS.concurrency), pick(args.requests, DEFAULTS.requests),
        pick(args.duration_seconds, DEFAULTS.duration_seconds),
        pick(args.timeout_seconds, DEFAULTS.timeout_seconds),
    )  # fmt: skip
    if not (1 <= chosen.concurrency <= 1024 and 1 <= chosen.requests <= 1_000_000):
        raise InvalidInput("--concurrency is 1-1024 and --requests 1-1000000")
    if not (0 < chosen.duration_seconds <= 86_400 and 0 < chosen.timeout_seconds <= 3600):
        raise InvalidInput("--duration-seconds is above 0 and at most 86400; --timeout-seconds 0-3600")
    return chosen


async def drive(
    target: RuntimeTarget,
    limits: LoadBounds,
    max_tokens: int | None,
    instances: int,
    clock: Clock = time.perf_counter,
) -> LoadReport:
    """Ask the served name if needed, run the load, summarize it."""
    import httpx  # noqa: PLC0415

    from infra.ops.protocols.client import exchange, served_models  # noqa: PLC0415

    timeout = limits.timeout_seconds
    pool = httpx.Limits(max_connections=limits.concurrency, max_keepalive_connections=limits.concurrency)
    async with httpx.AsyncClient(base_url=target.base_url, limits=pool, timeout=timeout) as http:
        model = target.served_model_name
        if target.request is Request.CHAT and model is None:
            model = (await served_models(http, target.base_url, timeout))[0]
        request = build(target, model, max_tokens, fixed_length=True)
        run = await run_load(lambda: exchange(http, target, request, timeout, clock), limits, clock)
    return summarize(
        run, url=target.base_url, runtime=target.runtime.value, request=target.request.value, model=model,
        concurrency=limits.concurrency, instances=instances, streamed=request.streamed,
    )  # fmt: skip


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def _spread(p: Percentiles) -> str:
    return f"p50 {_ms(p.p50):<11} p95 {_ms(p.p95):<11} p99 {_ms(p.p99)}"


def report_lines(report: LoadReport) -> list[str]:
    """The report as printed, one figure a line (pure)."""
    why = "all sent" if report.stopped_by == "requests" else "--duration-seconds reached"
    model = f" ({report.model})" if report.model else ""
    head = (
        f"{report.runtime} {report.request}{model}: {report.sent} requests at concurrency "
        f"{report.concurrency} in {report.elapsed_seconds:.1f} s ({why})"
    )
    rate = lambda count: f"{report.per_second(count) or 0:10,.1f}"  # noqa: E731
    rows = [head, f"  {'requests/s':<22}{rate(report.succeeded)}"]
    if report.streamed:
        counted = f"({report.output_tokens:,} tokens, counted from {report.tokens_from or '-'})"
        rows.append(f"  {'output tokens/s':<22}{rate(report.output_tokens)}  {counted}")
    else:
        rows.append(f"  {'inputs/s':<22}{rate(report.inputs)}  ({report.inputs:,} inputs)")
    if report.input_tokens is not None:
        rows.append(f"  {'input tokens/s':<22}{rate(report.input_tokens)}  ({report.input_tokens:,} tokens)")
    if report.time_to_first_token and report.inter_token_latency:
        rows.append(f"  {'time to first token':<22}{_spread(report.time_to_first_token)}")
        rows.append(f"  {'inter-token latency':<22}{_spread(report.inter_token_latency)}")
    rows.append(f"  {'end-to-end latency':<22}{_spread(report.latency)}")
    failed = report.sent - report.succeeded
    rows.append(f"  {'errors':<22}{failed} of {report.sent} ({report.error_rate_percent:.2f} %)")
    rows += [f"    {count} x {problem}" for problem, count in report.errors.items()]
    return rows


def objectives(args: argparse.Namespace, model: ModelBase | None) -> tuple[float | None, float]:
    p99 = args.slo_p99_ms or (model.slo.p99_latency_ms if model else None)
    errors = args.max_error_percent
    if errors is None:
        errors = model.slo.error_rate_percent if model else 1.0
    return (float(p99) if p99 is not None else None), float(errors)


def write_report(
    path: Path,
    report: LoadReport,
    goals: dict[str, Any],
    problems: list[str],
    extra: dict[str, Any] | None = None,
) -> None:
    """The report as JSON for ``cost tokens``; ``extra``: what a kind of load test adds to it."""
    document = report.to_dict() | (extra or {}) | {"objectives": goals, "within_objectives": not problems}
    path.write_text(json.dumps(document, indent=2) + "\n")


def run(
    args: argparse.Namespace, target: RuntimeTarget, model: ModelBase | None, out: Console, err: Console
) -> int:
    import asyncio  # noqa: PLC0415

    from rich.markup import escape  # noqa: PLC0415

    refused = given(args, RATE_SEARCH_FLAGS)
    if refused:
        raise InvalidInput(
            f"{', '.join(refused)}: flags of runtime modelfleet's rate search; a {target.runtime.value} "
            "load test takes --concurrency, --requests and --duration-seconds"
        )
    if args.max_tokens is not None and (target.request is not Request.CHAT or args.max_tokens < 1):
        raise InvalidInput("--max-tokens is a positive count of a vllm completion's output tokens")
    if args.instances is not None and args.instances < 1:
        raise InvalidInput("--instances must be at least 1")
    limits = bounds(args)
    # The sample's completions are this long; a --payload's are its own unless --max-tokens says.
    max_tokens = args.max_tokens if target.payload else (args.max_tokens or DEFAULT_MAX_TOKENS)
    # Built now so that a bad --payload is refused before anything is sent.
    preview = build(target, target.served_model_name, max_tokens, fixed_length=True)
    p99, errors = objectives(args, model)
    objective = f"p99 ≤ {p99:g} ms, " if p99 is not None else ""
    out.print(
        f"[bold]{escape(target.base_url)}[/] {escape(target.described())}: objectives {objective}"
        f"errors ≤ {errors:g} %",
        highlight=False,
        soft_wrap=True,
    )
    if args.dry_run:
        plan = (
            f"dry run, nothing sent: up to {limits.requests} requests, {limits.concurrency} in flight, "
            f"for at most {limits.duration_seconds:g} s, each within {limits.timeout_seconds:g} s: "
            f"POST {preview.path} {body_text(preview)}"
        )
        out.print(plan, markup=False, highlight=False, soft_wrap=True)
        return 0
    report = asyncio.run(drive(target, limits, max_tokens, args.instances or 1))
    for line in report_lines(report):
        out.print(line, markup=False, highlight=False, soft_wrap=True)
    problems = objective_problems(report, p99, errors)
    if args.json_out:
        write_report(args.json_out, report, {"p99_latency_ms": p99, "error_rate_percent": errors}, problems)
        out.print(f"report written to {escape(str(args.json_out))}", highlight=False, soft_wrap=True)
    if problems:
        return fail(err, f"outside the objectives: {'; '.join(problems)}", EXIT_STOPPED)
    out.print("[green]✓[/] within the objectives", highlight=False)
    return 0
