"""``modelfleet loadtest --stack S --model M``: a vLLM model on a shared endpoint, as its clients call it.

Streamed chat completions through ``InvokeEndpointWithResponseStream`` to the
model's inference component (``infra.ops.component_load``), at a fixed concurrency
like a vLLM ``--url`` load test and with the same report (``infra.ops.runtime_load``),
plus what the copies serving it cost: dollars an hour and per million output tokens.
The copies are the component's ``CurrentCopyCount``, read before and after the
run, or ``--copies``. Names, copy share and price are known before anything is
sent; ``--dry-run`` asks AWS nothing.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from infra.cli.failures import EXIT_STOPPED, fail
from infra.contracts import instances
from infra.contracts.runtimes import Request, Runtime
from infra.ops.errors import InvalidInput, OpsError
from infra.ops.protocols.requests import RuntimeTarget, body_text, chat
from infra.ops.runtime_load import objective_problems, summarize
from infra.ops.runtime_load_cli import (
    DEFAULT_MAX_TOKENS,
    RATE_SEARCH_FLAGS,
    bounds,
    given,
    objectives,
    report_lines,
    write_report,
)
from infra.specs.component_fit import copy_share

if TYPE_CHECKING:  # the rest loads when the load test runs: ``loadtest --help`` needs add_options only
    from rich.console import Console

    from infra.ops.component_load import ComponentCost
    from infra.settings.catalog import SageMakerModel

STREAM_SUFFIX = "-response-stream"  # InvokeEndpointWithResponseStream: /invocations-response-stream
# Flags of the other kinds of load test, refused here rather than ignored (-> argparse dest).
NOT_FOR_COMPONENTS = {
    "--instances": "instances", "--content-type": "content_type", "--write": "write", **RATE_SEARCH_FLAGS,
}  # fmt: skip


def add_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--copies",
        type=int,
        help="--stack/--model on a shared endpoint: copies serving during the test, for its cost "
        "(default: the component's CurrentCopyCount)",
    )


def _table_path(region: str) -> str:
    """The region's price table, as the repository names it (infra/plan/prices/<region>.json)."""
    from infra.plan.cost import PRICES_DIR  # noqa: PLC0415

    return str((PRICES_DIR / f"{region}.json").relative_to(PRICES_DIR.parents[2]))


def _cost(region: str, instance_type: str, share: float, copies: int) -> ComponentCost:
    from infra.ops.component_load import ComponentCost  # noqa: PLC0415
    from infra.plan.cost import PriceTable  # noqa: PLC0415
    from infra.plan.token_cost import TokenCostError, hourly_price  # noqa: PLC0415

    table = PriceTable.for_region(region)
    try:
        key, price = hourly_price(table, instance_type, region, _table_path(region))
    except TokenCostError as error:
        raise InvalidInput(str(error).replace("pass --price-per-hour, or run", "run")) from None
    basis = f"{table.region} on-demand list price of {table.retrieved}"  # type: ignore[union-attr]
    return ComponentCost(instance_type, key, price, share, copies, basis)


def _cost_lines(cost: ComponentCost, tokens_per_second: float | None) -> list[str]:
    copies = f"{cost.copies} cop{'y' if cost.copies == 1 else 'ies'}"
    rows = [
        f"  {'cost':<22}${cost.usd_per_hour:,.4f} an hour = {copies} x {cost.copy_share:.4f} of an "
        f"{cost.instance_type} x ${cost.usd_per_instance_hour:.4f} ({cost.price_key}, {cost.basis})"
    ]
    if tokens_per_second:
        usd = cost.usd_per_million_tokens(tokens_per_second)
        rows.append(
            f"  {'$ per 1M output tokens':<22}{usd:10,.4f}  = ${cost.usd_per_hour:,.4f} / "
            f"({tokens_per_second:,.1f} tokens/s x 3600 s) x 1,000,000"
        )
    else:
        rows.append(f"  {'$ per 1M output tokens':<22}         -  (no output tokens)")
    return rows


@dataclass(frozen=True)
class Placement:
    """Where a vllm model on a shared endpoint is served, and the share of an instance a copy takes."""

    model: SageMakerModel
    region: str
    endpoint: str  # EndpointName
    component: str  # InferenceComponentName
    invoke_url: str
    instance_type: str  # the shared endpoint's
    share: float  # component_fit.copy_share


def placement(args: argparse.Namespace) -> Placement:
    """The model ``--stack``/``--model`` name, from the stack file; ``InvalidInput`` unless placed vllm."""
    from infra.ops.target import load_project, stack_settings  # noqa: PLC0415
    from infra.specs.model_record import model_record  # noqa: PLC0415

    settings = stack_settings(load_project(), args.stack, args.stack_file)
    model = next((m for m in settings.models if m.name == args.model), None)
    if model is None:
        known = ", ".join(m.name for m in settings.models)
        raise InvalidInput(f"stack '{args.stack}' has no model '{args.model}' (models: {known})")
    # The stack's record says where a model runs; a placed one has an inference component.
    record = model_record(args.stack, settings.region, model)
    if "inference_component" not in record or model.runtime is not Runtime.VLLM:
        raise InvalidInput(
            f"model '{model.name}' is not a vllm model on a shared endpoint: load-test it with --endpoint "
            "(its SageMaker endpoint) or --url (a local or port-forwarded server)"
        )
    shared = next(e for e in settings.shared_endpoints if e.name == record["shared_endpoint"])
    reservation, shape = model.reservation(), instances.lookup(shared.instance_type)
    assert reservation is not None and shape is not None  # a placed model's component; a checked type
    return Placement(
        model, settings.region, record["endpoint_name"], record["inference_component"], record["invoke_url"],
        shared.instance_type, copy_share(reservation, shape),
    )  # fmt: skip


def _check_flags(args: argparse.Namespace) -> None:
    refused = given(args, NOT_FOR_COMPONENTS)
    if refused:
        raise InvalidInput(
            f"{', '.join(refused)}: not for a model on a shared endpoint; its load test takes "
            "--concurrency, --requests, --duration-seconds, --max-tokens and --copies"
        )
    if args.copies is not None and args.copies < 1:
        raise InvalidInput("--copies must be at least 1")
    if args.max_tokens is not None and args.max_tokens < 1:
        raise InvalidInput("--max-tokens is a positive count of a completion's output tokens")


def _print(out: Console, rows: list[str]) -> None:
    for row in rows:
        out.print(row, markup=False, highlight=False, soft_wrap=True)


def _copies(sagemaker: Any, component: str) -> int:
    from infra.ops import component_load  # noqa: PLC0415

    copies = component_load.current_copies(sagemaker, component)
    if copies < 1:
        raise OpsError(
            f"inference component {component} has no copy serving (CurrentCopyCount 0, scaled to zero?): "
            "send one request to wake it, or wait for its copies"
        )
    return copies


def run(args: argparse.Namespace, out: Console, err: Console) -> int:
    import asyncio  # noqa: PLC0415

    from rich.markup import escape  # noqa: PLC0415

    from infra.ops import component_load  # noqa: PLC0415
    from infra.ops.drivers.inference_component import load_clients  # noqa: PLC0415

    _check_flags(args)
    where = placement(args)
    cost = _cost(where.region, where.instance_type, where.share, args.copies or 1)  # a missing price: now
    limits = bounds(args)
    max_tokens = args.max_tokens if args.payload else (args.max_tokens or DEFAULT_MAX_TOKENS)
    target = RuntimeTarget(where.invoke_url, Runtime.VLLM, Request.CHAT, None, args.payload)
    # LMI serves the model as "lmi" unless OPTION_SERVED_MODEL_NAME says otherwise, and fills in
    # the name when a request omits it: the request names no model.
    request = chat(target, None, max_tokens, fixed_length=True)
    p99, errors = objectives(args, where.model)
    objective = f"p99 ≤ {p99:g} ms, " if p99 is not None else ""
    out.print(
        f"[bold]{escape(where.endpoint)}[/] inference component {escape(where.component)} (vllm chat on LMI, "
        f"{escape(where.instance_type)}): objectives {objective}errors ≤ {errors:g} %",
        highlight=False,
        soft_wrap=True,
    )
    if args.dry_run:
        copies = f"{args.copies} (--copies)" if args.copies else "the component's CurrentCopyCount"
        _print(out, [
            f"dry run, nothing sent: up to {limits.requests} requests, {limits.concurrency} in flight, "
            f"for at most {limits.duration_seconds:g} s, each within {limits.timeout_seconds:g} s: "
            f"InvokeEndpointWithResponseStream {body_text(request)}",
            f"priced at {copies} x {where.share:.4f} of an {where.instance_type} x "
            f"${cost.usd_per_instance_hour:.4f} an hour ({cost.price_key}, {cost.basis}; "
            f"{_table_path(where.region)})",
        ])  # fmt: skip
        return 0
    sagemaker, runtime = load_clients(where.region, limits.timeout_seconds, limits.concurrency)
    before = args.copies or _copies(sagemaker, where.component)
    load = asyncio.run(component_load.drive(runtime, where.endpoint, where.component, request, limits))
    after = args.copies or component_load.current_copies(sagemaker, where.component)
    cost = _cost(where.region, where.instance_type, where.share, max(before, after))
    report = summarize(
        load, url=where.invoke_url + STREAM_SUFFIX, runtime=Runtime.VLLM.value, request=Request.CHAT.value,
        model=where.model.name, concurrency=limits.concurrency, instances=cost.copies, streamed=True,
    )  # fmt: skip
    tokens_per_second = report.per_second(report.output_tokens)
    rows = report_lines(report) + _cost_lines(cost, tokens_per_second)
    if before != after:
        rows.append(f"  copies went from {before} to {after} during the run: priced at {cost.copies}")
    _print(out, rows)
    problems = objective_problems(report, p99, errors)
    if args.json_out:
        extra = {
            "endpoint_name": where.endpoint, "inference_component": where.component, "copies": cost.copies,
            "copy_share": where.share, "cost": cost.to_dict(tokens_per_second),
        }  # fmt: skip
        goals = {"p99_latency_ms": p99, "error_rate_percent": errors}
        write_report(args.json_out, report, goals, problems, extra)
        out.print(f"report written to {escape(str(args.json_out))}", highlight=False, soft_wrap=True)
    if problems:
        return fail(err, f"outside the objectives: {'; '.join(problems)}", EXIT_STOPPED)
    out.print("[green]✓[/] within the objectives", highlight=False)
    return 0
