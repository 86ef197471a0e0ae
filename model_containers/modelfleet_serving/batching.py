"""Dynamic batching inside one worker.

Requests that arrive while a batch is running wait and go together in the
next one, up to ``max_batch_size`` rows; ``max_delay_ms`` may add a short wait
to fill a batch (0, the default, adds none). Before its first batch the batcher
lets the event loop make one pass, with no timer: requests whose bytes have
already arrived join that batch instead of the next. Under load that doubles
the rows per model call, and the model's fixed cost per call is shared by
twice as many requests; an idle worker pays one loop pass. The model runs in a thread, so the
event loop keeps answering ``/ping`` and accepting requests meanwhile; only
models whose last call took under a millisecond run inline, where the hop costs
more. The call is timed inside the thread: timing the hop too (waiting for the
GIL behind a busy event loop) would keep a fast model in the thread for good
once the worker is loaded.

A request waits at most ``timeout_seconds``, queued or in the model. One timer
per worker enforces that, armed for the oldest request: a timeout per request
(``asyncio.timeout``) cost a tenth of the CPU of a small request.

With ``queue_deadline_seconds`` (``MODELFLEET_QUEUE_DEADLINE_MS``, set from the
model's p99 SLO), the queue is bounded by time as well as by rows, so that what
is admitted is answered in time and the rest is refused at once:
- a request still waiting past its deadline when its batch would start is failed
  with ``QueueFull`` (a 503 with Retry-After) and never reaches the model;
- ``submit`` refuses at once when the rows ahead of it, times the recent time per
  row, already exceed the deadline. The time per row is measured while the queue
  is backlogged, from one batch's start to the next: it holds the model and the
  event loop's own work between batches, which is what a queued row waits for.

A request's payload is anything with a length that slices: numeric rows (an
array, joined with ``np.concatenate``) or items (a list: texts, records,
bodies, joined with ``join_lists``). The model's output is split back by the
same lengths, so it must answer item for item.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import Any

import numpy as np

from modelfleet_serving.errors import ModelError, QueueFull

__all__ = ["Batcher", "ModelError", "QueueFull", "join_lists"]


# A batch this quick runs on the event loop: the thread hop would cost more than
# the model, and /ping waits at most this long. Slower models always use the thread.
INLINE_SECONDS = 0.001


def join_lists(parts: Sequence[list]) -> list:
    """Several requests' items as one list, in order."""
    return [item for part in parts for item in part]


class Batcher:
    def __init__(
        self,
        predict: Callable[[Any], Sequence],
        executor: Executor,
        max_batch_size: int = 32,
        max_delay_ms: float = 0.0,
        max_queue_rows: int = 256,
        timeout_seconds: float = 60.0,
        join: Callable[[Sequence[Any]], Any] = np.concatenate,
        queue_deadline_seconds: float | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.predict, self.executor, self.join = predict, executor, join
        self.max_batch_size, self.max_delay = max_batch_size, max_delay_ms / 1000
        self.max_queue_rows, self.timeout = max_queue_rows, timeout_seconds
        self.queue_deadline = queue_deadline_seconds or None  # None or 0: bounded by rows only
        # The worker's loop, when known: asyncio.get_running_loop() costs a getpid() call on Python 3.11.
        self.loop, self.clock = loop, clock
        # (rows, future, timeout on the loop's clock, queue deadline on self.clock), oldest first
        self._waiting: deque[tuple[Any, asyncio.Future, float, float]] = deque()
        self._in_model: list[tuple[Any, asyncio.Future, float, float]] = []
        self.queued_rows = 0
        self._running = False
        self._drainer: asyncio.Task | None = None
        self._watchdog: asyncio.TimerHandle | None = None
        self._last_seconds = float("inf")  # the last model call, timed in the thread; unknown at first
        self.seconds_per_row = 0.0  # while backlogged, batch start to batch start over rows; 0: unknown
        self.on_batch: Callable[[int], None] = lambda rows: None  # rows per model call, for metrics

    def expected_wait(self, rows: int = 0) -> float:
        """Seconds until ``rows`` more would start at the recent pace: rows ahead times the time per row."""
        return (self.queued_rows + rows) * self.seconds_per_row

    def saturated(self, received_at: float | None = None) -> bool:
        """Whether a request of one row, received at ``received_at`` (on ``clock``), would be refused
        now: the checks ``submit`` makes, cheap enough to run before anything is read or decoded."""
        if self.queued_rows >= self.max_queue_rows:
            return True
        if self.queue_deadline is None:
            return False
        waited = 0.0 if received_at is None else self.clock() - received_at
        return waited + self.expected_wait(1) > self.queue_deadline

    async def submit(self, rows: Any, received_at: float | None = None) -> Any:
        """The model's output for ``rows``; ``TimeoutError`` once they have waited ``timeout_seconds``,
        ``QueueFull`` when the queue is full, or would not start them within the queue deadline. The
        deadline runs from ``received_at`` (when the server read the request, on ``clock``), else now."""
        return await self.enqueue(rows, received_at)

    def enqueue(self, rows: Any, received_at: float | None = None) -> asyncio.Future:
        """``submit`` without the coroutine: the future of ``rows``' output, for a caller that answers
        from a done callback. ``QueueFull`` is raised at once here, or set on the future later."""
        if self.queued_rows + len(rows) > self.max_queue_rows:
            raise QueueFull(f"{self.queued_rows} rows already queued")
        deadline, start_by = self.queue_deadline, float("inf")
        if deadline is not None:
            now = self.clock()
            arrived = now if received_at is None else received_at
            if now - arrived + self.expected_wait(len(rows)) > deadline:
                waiting = f"{self.queued_rows} rows queued"
                raise QueueFull(f"{waiting}: it would start past its {deadline * 1000:g} ms")
            start_by = arrived + deadline
        loop = self.loop or asyncio.get_running_loop()
        future = loop.create_future()
        timeout = loop.time() + self.timeout
        self._waiting.append((rows, future, timeout, start_by))
        self.queued_rows += len(rows)
        if self._watchdog is None:
            self._watchdog = loop.call_at(timeout, self._expire)
        if not self._running:
            self._running = True
            self._drainer = loop.create_task(self._drain())  # referenced: a bare task may be collected
        return future

    def _expire(self) -> None:
        """Fail every request past its deadline, queued or in the model; re-arm for the oldest left."""
        loop = asyncio.get_running_loop()
        now, self._watchdog = loop.time(), None
        pending = [*self._in_model, *self._waiting]
        for _, future, timeout, _ in pending:
            if timeout <= now and not future.done():
                future.set_exception(TimeoutError(f"no answer within {self.timeout:g} s"))
        later = [timeout for _, future, timeout, _ in pending if not future.done()]
        if later:
            self._watchdog = loop.call_at(min(later), self._expire)

    def _take(self, now: float) -> list[tuple[Any, asyncio.Future, float, float]]:
        """The next batch, oldest first; a request past its queue deadline is refused, never run."""
        taken, rows = [], 0
        while self._waiting and (not taken or rows + len(self._waiting[0][0]) <= self.max_batch_size):
            item = self._waiting.popleft()
            if item[1].done():  # timed out, or the client went away
                self.queued_rows -= len(item[0])
                continue
            if item[3] < now:
                self.queued_rows -= len(item[0])
                waited = (now - item[3] + self.queue_deadline) * 1000
                item[1].set_exception(QueueFull(f"waited {waited:.0f} ms in the queue, past its deadline"))
                continue
            taken.append(item)
            rows += len(item[0])
        return taken

    def _timed(self, batch: Any) -> tuple[Sequence, float]:
        """The model's output and how long the call took, timed where it runs."""
        started = time.perf_counter()
        output = self.predict(batch)
        return output, time.perf_counter() - started

    def _note_pace(self, seconds: float, rows: int) -> None:
        """Seconds per row from one backlogged batch start to the next, smoothed over recent batches."""
        sample = seconds / rows
        self.seconds_per_row = (
            sample if not self.seconds_per_row else 0.8 * self.seconds_per_row + 0.2 * sample
        )

    async def _drain(self) -> None:
        loop = self.loop or asyncio.get_running_loop()
        backlog: tuple[float, int] | None = None  # the previous batch's start and rows, while backlogged
        try:
            await asyncio.sleep(0)  # one loop pass: requests already read join this batch
            while self._waiting:
                if self.max_delay and self.queued_rows < self.max_batch_size:
                    await asyncio.sleep(self.max_delay)
                    backlog = None  # a chosen wait, not the pace of the queue
                now = self.clock()
                taken = self._take(now)
                if not taken:
                    continue
                if backlog is not None:
                    self._note_pace(now - backlog[0], backlog[1])
                batch = self.join([item[0] for item in taken]) if len(taken) > 1 else taken[0][0]
                self.queued_rows -= len(batch)
                backlog = (now, len(batch)) if self._waiting else None
                self.on_batch(len(batch))
                self._in_model = taken
                try:
                    if self._last_seconds < INLINE_SECONDS:
                        output, self._last_seconds = self._timed(batch)
                    else:
                        output, self._last_seconds = await loop.run_in_executor(
                            self.executor, self._timed, batch
                        )
                    if len(output) != len(batch):
                        raise ModelError(f"model returned {len(output)} rows for {len(batch)}")
                except Exception as exc:
                    error = exc if isinstance(exc, ModelError) else ModelError(f"{type(exc).__name__}: {exc}")
                    for _, future, _, _ in taken:
                        if not future.done():
                            future.set_exception(error)
                    continue
                finally:
                    self._in_model = []
                start = 0
                for rows, future, _, _ in taken:
                    if not future.done():
                        future.set_result(output[start : start + len(rows)])
                    start += len(rows)
        finally:
            self._running = False
