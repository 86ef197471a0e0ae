"""Constant-rate, open-loop load through a sender: HTTP to a local container, or a SageMaker endpoint's.

Requests leave on a fixed schedule whether or not earlier ones have answered,
and each latency is measured from its *scheduled* send time, so a stalled server
shows up as latency instead of silently lowering the load (no coordinated
omission). Every step is bounded in requests, in-flight requests and time.
"""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from infra.contracts import serving
from infra.ops.sizing import StepResult, meets_slo, rate_schedule, summarize

if TYPE_CHECKING:  # asyncio and httpx load with a run: ``loadtest --help`` reads LoadPlan's defaults
    import httpx

Send = Callable[[], Awaitable[bool]]  # one request; True when it succeeded


@dataclass(frozen=True)
class LoadPlan:
    start_rate: float = 10
    max_rate: float = 2000
    factor: float = 1.5
    step_seconds: float = 10
    max_requests_per_step: int = 20_000
    max_inflight: int = 256
    timeout_seconds: float = 5
    refine_steps: int = 2  # bisections between the last passing and first failing rate
    warmup_requests: int = 20  # sent one by one and not measured: connections, caches, lazy loading


async def run_step(send: Send, rate: float, plan: LoadPlan) -> StepResult:
    """Offer ``rate`` requests/s for ``step_seconds`` (capped in count) and measure."""
    import asyncio  # noqa: PLC0415

    import httpx  # noqa: PLC0415

    loop = asyncio.get_running_loop()
    count = max(1, min(plan.max_requests_per_step, int(rate * plan.step_seconds)))
    latencies: list[float] = []
    inflight = 0

    async def one(scheduled: float) -> None:
        nonlocal inflight
        inflight += 1
        try:
            if await asyncio.wait_for(send(), plan.timeout_seconds):
                latencies.append((loop.time() - scheduled) * 1000)
        except (TimeoutError, httpx.HTTPError, OSError):
            pass  # a failure: counted as sent, not succeeded
        finally:
            inflight -= 1

    tasks = []
    started = loop.time()
    for index in range(count):
        scheduled = started + index / rate
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        if inflight >= plan.max_inflight:
            continue  # shed at the generator: counted as a failure, never queued without bound
        tasks.append(asyncio.create_task(one(scheduled)))
    await asyncio.gather(*tasks)
    return summarize(rate, latencies, count, loop.time() - started)


async def find_rate(
    send: Send,
    plan: LoadPlan,
    p99_ms: float,
    max_error_rate_percent: float,
    on_step: Callable[[StepResult, bool], None] = lambda step, ok: None,
) -> list[StepResult]:
    """Step the rate up until the SLO breaks, then bisect between the last good and first bad."""
    import asyncio  # noqa: PLC0415

    import httpx  # noqa: PLC0415

    results: list[StepResult] = []
    good, bad = None, None
    for _ in range(plan.warmup_requests):
        with contextlib.suppress(TimeoutError, httpx.HTTPError, OSError):  # steps count failures
            await asyncio.wait_for(send(), plan.timeout_seconds)
    for rate in rate_schedule(plan.start_rate, plan.factor, plan.max_rate):
        step = await run_step(send, rate, plan)
        ok = meets_slo(step, p99_ms, max_error_rate_percent)
        results.append(step)
        on_step(step, ok)
        if not ok:
            bad = rate
            break
        good = rate
    for _ in range(plan.refine_steps if good is not None and bad is not None else 0):
        middle = (good + bad) / 2
        step = await run_step(send, middle, plan)
        ok = meets_slo(step, p99_ms, max_error_rate_percent)
        results.append(step)
        on_step(step, ok)
        good, bad = (middle, bad) if ok else (good, middle)
    return results


def check_local_url(url: str) -> str:
    """Only loopback targets: a local container from ``make serve``; real endpoints use --endpoint."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        local = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        local = False
    if parts.scheme not in ("http", "https") or not local:
        raise ValueError(f"--url must be http(s) on a loopback address such as 127.0.0.1 (got '{url}')")
    return url.rstrip("/")


def http_sender(client: httpx.AsyncClient, body: bytes, content_type: str, accept: str) -> Send:
    async def send() -> bool:
        response = await client.post(
            serving.INVOKE_PATH, content=body, headers={"content-type": content_type, "accept": accept}
        )
        return response.status_code == 200

    return send
