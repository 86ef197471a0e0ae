"""Closed-loop load on a vLLM or TEI server, and its report: throughput, tokens, latencies, errors.

An LLM server is measured at a fixed number of requests in flight, as vLLM's own
benchmark does (``--max-concurrency``): throughput and token latencies depend on
how many sequences share a batch, and a fixed concurrency makes that number
known. Each of ``concurrency`` workers sends its next request when its last one is
answered, until ``requests`` have been sent or ``duration_seconds`` have passed;
every request is bounded by its timeout, so a run ends within the duration plus
one timeout. The arithmetic (``summarize``) is pure.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from infra.ops.errors import InvalidInput
from infra.ops.sizing import percentile

if TYPE_CHECKING:  # httpx: not needed for LoadBounds' defaults, which ``loadtest --help`` shows
    from infra.ops.protocols.client import Clock, Exchange

REPORT_FORMAT = "modelfleet-loadtest/1"  # the JSON report's kind and version, read by `cost tokens`
# The token rate that prices each request kind: what a chat model writes, what an embedding model reads.
PRICED_TOKENS = {
    "chat": ("output_tokens_per_second", "output"),
    "embeddings": ("input_tokens_per_second", "input"),
}
MAX_ERROR_KINDS = 10  # distinct problems kept in a report, the most frequent first


@dataclass(frozen=True)
class LoadBounds:
    concurrency: int = 8  # requests in flight
    requests: int = 200  # sent at most
    duration_seconds: float = 60  # no request starts later than this
    timeout_seconds: float = 60  # a request still unanswered is a failure


@dataclass(frozen=True)
class LoadRun:
    exchanges: list[Exchange]
    elapsed_seconds: float
    stopped_by: str  # "requests" (all sent) or "duration"


async def run_load(send: Callable[[], Awaitable[Exchange]], bounds: LoadBounds, clock: Clock) -> LoadRun:
    """``bounds.concurrency`` workers, each sending when answered, bounded in count and time."""
    import asyncio  # noqa: PLC0415 - here, not at load: ``loadtest --help`` reads LoadBounds' defaults

    exchanges: list[Exchange] = []
    started = clock()
    deadline = started + bounds.duration_seconds
    claimed = 0

    async def worker() -> None:
        nonlocal claimed
        while claimed < bounds.requests and clock() < deadline:
            claimed += 1
            exchanges.append(await send())

    await asyncio.gather(*(worker() for _ in range(min(bounds.concurrency, bounds.requests))))
    return LoadRun(exchanges, clock() - started, "requests" if claimed >= bounds.requests else "duration")


@dataclass(frozen=True)
class Percentiles:
    """p50, p95 and p99 in milliseconds (nearest rank); None without a value."""

    p50: float | None
    p95: float | None
    p99: float | None

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Percentiles:
        ms = [s * 1000 for s in seconds]
        return cls(percentile(ms, 0.50), percentile(ms, 0.95), percentile(ms, 0.99))

    def to_dict(self) -> dict[str, float | None]:
        return {k: None if v is None else round(v, 3) for k, v in vars(self).items()}


@dataclass(frozen=True)
class LoadReport:
    """What a run measured; rates are per second of the whole run, over successful requests."""

    url: str
    runtime: str
    request: str
    model: str | None
    concurrency: int
    instances: int  # serving the URL, for the cost per instance
    sent: int
    succeeded: int
    elapsed_seconds: float
    stopped_by: str
    latency: Percentiles  # send to the last byte
    inputs: int  # texts embedded or scored
    output_tokens: int
    input_tokens: int | None  # from usage; None when no answer reported it
    tokens_from: str | None  # chat: "usage", "chunks" or "usage and chunks"
    time_to_first_token: Percentiles | None  # chat only, as is the next
    inter_token_latency: Percentiles | None
    errors: dict[str, int]  # problem -> requests that had it first

    def per_second(self, count: float | None) -> float | None:
        return None if count is None or self.elapsed_seconds <= 0 else count / self.elapsed_seconds

    @property
    def error_rate_percent(self) -> float:
        return 100.0 * (self.sent - self.succeeded) / self.sent if self.sent else 0.0

    @property
    def streamed(self) -> bool:
        return self.time_to_first_token is not None

    def to_dict(self) -> dict[str, Any]:
        rate = lambda count: None if self.per_second(count) is None else round(self.per_second(count), 3)  # noqa: E731
        document: dict[str, Any] = {
            "format": REPORT_FORMAT, "url": self.url, "runtime": self.runtime, "request": self.request,
            "model": self.model, "concurrency": self.concurrency, "instances": self.instances,
            "sent": self.sent, "succeeded": self.succeeded, "failed": self.sent - self.succeeded,
            "error_rate_percent": round(self.error_rate_percent, 3),
            "elapsed_seconds": round(self.elapsed_seconds, 3), "stopped_by": self.stopped_by,
            "requests_per_second": rate(self.succeeded), "latency_ms": self.latency.to_dict(),
        }  # fmt: skip
        if self.streamed:
            document |= {
                "output_tokens": self.output_tokens, "output_tokens_per_second": rate(self.output_tokens),
                "tokens_from": self.tokens_from,
                "time_to_first_token_ms": self.time_to_first_token.to_dict(),  # type: ignore[union-attr]
                "inter_token_latency_ms": self.inter_token_latency.to_dict(),  # type: ignore[union-attr]
            }  # fmt: skip
        else:
            document |= {"inputs": self.inputs, "inputs_per_second": rate(self.inputs)}
        if self.input_tokens is not None:
            tokens = self.input_tokens
            document |= {"input_tokens": tokens, "input_tokens_per_second": rate(tokens)}
        return document | {"errors": self.errors}


def _tokens_from(good: Sequence[Exchange]) -> str | None:
    sources = sorted({e.tokens_from for e in good if e.tokens_from})
    return " and ".join(sources) or None


def summarize(
    run: LoadRun, *, url: str, runtime: str, request: str, model: str | None, concurrency: int,
    instances: int = 1, streamed: bool = False,
) -> LoadReport:  # fmt: skip
    """The report of a run (pure); latencies and counts are of successful requests only."""
    good = [e for e in run.exchanges if e.ok]
    errors = Counter(e.problems[0] for e in run.exchanges if not e.ok)
    prompt = [e.prompt_tokens for e in good if e.prompt_tokens is not None]
    return LoadReport(
        url, runtime, request, model, concurrency, instances, len(run.exchanges), len(good),
        run.elapsed_seconds, run.stopped_by, Percentiles.of([e.latency_seconds for e in good]),
        sum(e.inputs for e in good), sum(e.output_tokens for e in good), sum(prompt) if prompt else None,
        _tokens_from(good) if streamed else None,
        Percentiles.of([e.time_to_first_token for e in good if e.time_to_first_token is not None])
        if streamed else None,
        Percentiles.of([gap for e in good for gap in e.token_gaps]) if streamed else None,
        dict(errors.most_common(MAX_ERROR_KINDS)),
    )  # fmt: skip


def objective_problems(report: LoadReport, p99_ms: float | None, max_error_rate_percent: float) -> list[str]:
    """Why the run falls short of the objectives, if it does (pure)."""
    found = []
    if report.succeeded == 0:
        found.append("no request succeeded")
    if report.error_rate_percent > max_error_rate_percent:
        found.append(f"errors {report.error_rate_percent:.2f} % > {max_error_rate_percent:g} %")
    p99 = report.latency.p99
    if p99_ms is not None and p99 is not None and p99 > p99_ms:
        found.append(f"p99 latency {p99:.0f} ms > {p99_ms:g} ms")
    return found


@dataclass(frozen=True)
class TokenRate:
    """The token rate a saved report measured, and what it was measured on."""

    tokens_per_second: float
    tokens: str  # "output" or "input"
    instances: int  # serving the URL during the test (loadtest --instances), or a component's copies
    described: str  # "vllm chat (qwen2.5-7b-instruct) at http://127.0.0.1:8000, concurrency 8"
    share: float = 1.0  # of an instance, each: a copy of an inference component takes a part of one


def token_rate(document: Any, source: str) -> TokenRate:
    """The priced token rate of a report ``to_dict`` wrote, read back from ``source`` (pure)."""
    if not isinstance(document, dict) or document.get("format") != REPORT_FORMAT:
        raise InvalidInput(f"{source} is not a `modelfleet loadtest --json` report ({REPORT_FORMAT})")
    request = document.get("request")
    field, tokens = PRICED_TOKENS.get(str(request), ("", ""))
    rate = document.get(field)
    if not isinstance(rate, int | float) or isinstance(rate, bool):
        raise InvalidInput(
            f"{source} has no token rate to price (request {request}): chat reports output tokens, "
            "embeddings input tokens when the answers carry usage"
        )
    model = f" ({document['model']})" if document.get("model") else ""
    described = (
        f"{document.get('runtime')} {request}{model} at {document.get('url')}, "
        f"concurrency {document.get('concurrency')}"
    )
    share = document.get("copy_share", 1.0)
    if not isinstance(share, int | float) or isinstance(share, bool) or not 0 < share <= 1:
        raise InvalidInput(f"{source}: copy_share is a share of an instance, above 0 and at most 1")
    return TokenRate(float(rate), tokens, int(document.get("instances") or 1), described, float(share))
