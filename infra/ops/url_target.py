"""A ``--url`` target of ``smoke`` or ``loadtest``: which runtime to speak, and how.

From the flags (``--runtime``, ``--served-model-name``, ``--task``, ``--payload``), or,
with ``--stack``/``--model``, from the model's catalog entry: its runtime, the name
vLLM serves it under, TEI's task, our container's sample request. The URL is
whatever reaches the model (a local container, a ``kubectl port-forward``); no
driver is asked, so a model of any backend can be addressed this way.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from infra.contracts.runtimes import Runtime
from infra.ops.errors import InvalidInput
from infra.ops.protocols.requests import TASK_REQUESTS, RuntimeTarget, request_for

if TYPE_CHECKING:
    from infra.settings.catalog import ModelBase

# Flags that describe the target, which a catalog entry describes instead (-> argparse dest).
TARGET_FLAGS = {"--runtime": "runtime", "--served-model-name": "served_model_name", "--task": "task"}


def add_runtime_options(command: argparse.ArgumentParser) -> None:
    """``--runtime``, ``--served-model-name`` and ``--task``: what serves at ``--url``."""
    command.add_argument(
        "--runtime",
        choices=[r.value for r in Runtime],
        help="what serves at --url (default: modelfleet; with --stack/--model, the model's runtime)",
    )
    command.add_argument(
        "--served-model-name", help="vllm/tei: the name it serves the model under (vllm default: /v1/models)"
    )
    command.add_argument("--task", choices=sorted(TASK_REQUESTS), help="tei: embed (default) or rerank")


def _given(args: argparse.Namespace, flags: dict[str, str]) -> list[str]:
    return [flag for flag, dest in flags.items() if getattr(args, dest, None) not in (None, False)]


def from_catalog(args: argparse.Namespace, base_url: str) -> tuple[RuntimeTarget, ModelBase]:
    """The target the model's catalog entry describes (``--stack``, ``--model``, ``--stack-file``)."""
    from infra.ops.runtime_request import catalog_target  # noqa: PLC0415
    from infra.ops.target import catalog_model, load_project  # noqa: PLC0415

    given = _given(args, TARGET_FLAGS)
    if given:
        raise InvalidInput(f"{', '.join(given)}: the model's catalog entry says this with --stack/--model")
    _, model = catalog_model(load_project(), args.stack, args.model, args.stack_file)
    origin = f"stack {args.stack}, model {model.name}"
    if model.runtime is not Runtime.MODELFLEET and args.content_type:
        raise InvalidInput(
            f"--content-type goes with runtime modelfleet (model {model.name} runs {model.runtime.value})"
        )
    return catalog_target(model, base_url, args.payload, args.content_type, origin), model


def from_flags(args: argparse.Namespace, base_url: str) -> RuntimeTarget:
    """The target the flags describe; the runtime is modelfleet unless ``--runtime`` says otherwise."""
    runtime = Runtime(args.runtime or Runtime.MODELFLEET)
    if args.task and runtime is not Runtime.TEI:
        raise InvalidInput(f"--task goes with --runtime tei (got {runtime.value})")
    if args.served_model_name and runtime is Runtime.MODELFLEET:
        raise InvalidInput("--served-model-name goes with --runtime vllm or tei")
    if args.content_type and runtime is not Runtime.MODELFLEET:
        raise InvalidInput(f"--content-type goes with --runtime modelfleet (got {runtime.value})")
    request = request_for(runtime, args.task)
    content_type = args.content_type or "application/json"
    return RuntimeTarget(
        base_url, runtime, request, args.served_model_name, args.payload, content_type, origin="flags"
    )


def url_target(args: argparse.Namespace, base_url: str) -> tuple[RuntimeTarget, ModelBase | None]:
    """The target of a ``--url`` command, and the catalog model when ``--stack``/``--model`` name one."""
    if bool(args.stack) != bool(args.model):
        raise InvalidInput("--stack and --model go together")
    if args.stack:
        return from_catalog(args, base_url)
    if args.stack_file:
        raise InvalidInput("--stack-file goes with --stack and --model")
    return from_flags(args, base_url), None
