"""``modelfleet smoke --url``: one request as the target's runtime expects it, one line on the answer.

vLLM gets a short streamed chat completion (the served name asked from
``/v1/models`` unless known), TEI an embeddings or rerank request, our container
its sample on ``/invocations``. Every failure, a refused connection included, is
one line and exit code 1; bad flags are exit code 2.
"""

from __future__ import annotations

import argparse
import asyncio
from urllib.parse import urlsplit

from rich.console import Console
from rich.markup import escape

from infra.cli.failures import EXIT_STOPPED, fail
from infra.contracts.runtimes import Request
from infra.ops.errors import InvalidInput
from infra.ops.protocols.client import Exchange
from infra.ops.protocols.requests import RuntimeTarget, build
from infra.ops.runtime_request import smoke
from infra.ops.url_target import url_target


def check_url(url: str) -> str:
    """Any http(s) URL with a host: a smoke test is one read-only request."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"--url must be an http(s) URL such as http://127.0.0.1:8000 (got '{url}')")
    return url.rstrip("/")


def summary(target: RuntimeTarget, model: str | None, result: Exchange) -> str:
    """The one line a smoke test prints, without its ✓ or ✗ (pure)."""
    where = f"{target.base_url} {target.described(model)}"
    if not result.ok:
        return f"{where}: {'; '.join(result.problems)}"
    took = f"{result.status} in {result.latency_seconds * 1000:.0f} ms"
    if target.request is Request.CHAT:
        first = (result.time_to_first_token or 0) * 1000
        return (
            f"{where}: {took}, first token after {first:.0f} ms, {result.output_tokens} tokens "
            f"(counted from {result.tokens_from})"
        )
    if target.request is Request.EMBEDDINGS:
        tokens = f" ({result.prompt_tokens} tokens)" if result.prompt_tokens else ""
        return f"{where}: {took}, {result.inputs} embeddings{tokens}"
    if target.request is Request.RERANK:
        return f"{where}: {took}, {result.inputs} texts scored"
    return f"{where}: {took}, response as expected"


def run(args: argparse.Namespace, out: Console, err: Console) -> int:
    if args.variant:
        raise InvalidInput("--variant picks a SageMaker variant: a --url is one server")
    if args.timeout_seconds is not None and args.timeout_seconds <= 0:
        raise InvalidInput("--timeout-seconds must be above 0")
    target, _ = url_target(args, check_url(args.url))
    build(target, target.served_model_name)  # a bad --payload is refused before anything is sent
    result, model = asyncio.run(smoke(target, args.timeout_seconds or 60))
    line = summary(target, model, result)
    if result.ok:
        out.print(f"[green]✓[/] {escape(line)}", highlight=False, soft_wrap=True)
        return 0
    return fail(err, line, EXIT_STOPPED)
