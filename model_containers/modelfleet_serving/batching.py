"""Dynamic batching inside one worker.

Requests that arrive while a batch is running wait and go together in the
next one, up to ``max_batch_size`` rows; ``max_delay_ms`` may add a short wait
to fill a batch (0, the default, adds none). Before its first batch the batcher
lets the event loop make one pass, with no timer: requests whose bytes have
already arrived join that batch instead of the next. Under load that doubles
the rows per model call, and the model's fixed cost per call is shared by
twice as many requests; an idle worker pays one loop pass. The model runs in a thread, so the
event loop keeps answering ``/ping`` and accepting requests meanwhile; only
batches measured under a millisecond run inline, where the hop costs more.

A request waits at most ``timeout_seconds``, queued or in the model. One timer
per worker enforces that, armed for the oldest request: a timeout per request
(``asyncio.timeout``) cost a tenth of the CPU of a small request.

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
    ):
        self.predict, self.executor, self.join = predict, executor, join
        self.max_batch_size, self.max_delay = max_batch_size, max_delay_ms / 1000
        self.max_queue_rows, self.timeout = max_queue_rows, timeout_seconds
        # (rows, future, deadline on the loop's clock), oldest first
        self._waiting: deque[tuple[Any, asyncio.Future, float]] = deque()
        self._in_model: list[tuple[Any, asyncio.Future, float]] = []
        self.queued_rows = 0
        self._running = False
        self._drainer: asyncio.Task | None = None
        self._watchdog: asyncio.TimerHandle | None = None
        self._last_seconds = float("inf")  # unknown until a batch has run in the thread
        self.on_batch: Callable[[int], None] = lambda rows: None  # rows per model call, for metrics

    async def submit(self, rows: Any) -> Any:
        """The model's output for ``rows``; ``TimeoutError`` once they have waited ``timeout_seconds``."""
        if self.queued_rows + len(rows) > self.max_queue_rows:
            raise QueueFull(f"{self.queued_rows} rows already queued")
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        deadline = loop.time() + self.timeout
        self._waiting.append((rows, future, deadline))
        self.queued_rows += len(rows)
        if self._watchdog is None:
            self._watchdog = loop.call_at(deadline, self._expire)
        if not self._running:
            self._running = True
            self._drainer = loop.create_task(self._drain())  # referenced: a bare task may be collected
        return await future

    def _expire(self) -> None:
        """Fail every request past its deadline, queued or in the model; re-arm for the oldest left."""
        loop = asyncio.get_running_loop()
        now, self._watchdog = loop.time(), None
        pending = [*self._in_model, *self._waiting]
        for _, future, deadline in pending:
            if deadline <= now and not future.done():
                future.set_exception(TimeoutError(f"no answer within {self.timeout:g} s"))
        later = [deadline for _, future, deadline in pending if not future.done()]
        if later:
            self._watchdog = loop.call_at(min(later), self._expire)

    def _take(self) -> list[tuple[Any, asyncio.Future, float]]:
        taken, rows = [], 0
        while self._waiting and (not taken or rows + len(self._waiting[0][0]) <= self.max_batch_size):
            item = self._waiting.popleft()
            if item[1].done():  # timed out, or the client went away
                self.queued_rows -= len(item[0])
                continue
            taken.append(item)
            rows += len(item[0])
        return taken

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            await asyncio.sleep(0)  # one loop pass: requests already read join this batch
            while self._waiting:
                if self.max_delay and self.queued_rows < self.max_batch_size:
                    await asyncio.sleep(self.max_delay)
                taken = self._take()
                if not taken:
                    continue
                batch = self.join([item[0] for item in taken]) if len(taken) > 1 else taken[0][0]
                self.queued_rows -= len(batch)
                self.on_batch(len(batch))
                self._in_model = taken
                try:
                    started = time.perf_counter()
                    if self._last_seconds < INLINE_SECONDS:
                        output = self.predict(batch)
                    else:
                        output = await loop.run_in_executor(self.executor, self.predict, batch)
                    self._last_seconds = time.perf_counter() - started
                    if len(output) != len(batch):
                        raise ModelError(f"model returned {len(output)} rows for {len(batch)}")
                except Exception as exc:
                    error = exc if isinstance(exc, ModelError) else ModelError(f"{type(exc).__name__}: {exc}")
                    for _, future, _ in taken:
                        if not future.done():
                            future.set_exception(error)
                    continue
                finally:
                    self._in_model = []
                start = 0
                for rows, future, _ in taken:
                    if not future.done():
                        future.set_result(output[start : start + len(rows)])
                    start += len(rows)
        finally:
            self._running = False
