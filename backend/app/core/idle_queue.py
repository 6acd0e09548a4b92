"""Work a worker does once no request is waiting for it.

A sampled request's Sentry transaction is finished after its response has gone out: the SDK
builds the event, runs the scope's processors, the scrubber and before_send_transaction,
serializes it and hands the envelope to the transport. That is about half of what a sampled
request costs (docs/benchmarks.md, "Transactions finished when the worker is idle"). The event
loop runs one callback at a time, so every request that is already in flight waits for it. At
10% sampling this raised the p99 of every request, traced or not, at the same traffic.

An IdleQueue puts that work behind the requests:
- With no other request in flight, `run_or_defer` runs the work at once, as before. A single
  request, a test or a quiet worker therefore sees no change.
- With other requests in flight, the work is queued with a copy of the request's context. The
  context holds the request's Sentry scopes and its correlation values, so the event is the one
  it would have been.
- When the last request in flight ends, the queue runs one item per event-loop iteration. Between
  items the loop reads the sockets again, and a new request stops the run until the worker is idle
  once more.
- Under saturation the worker is never idle. The queue then holds at most `max_pending` items,
  none older than `max_age` seconds: past either bound, the oldest item runs inline. This does the
  same work a little later and loses nothing.
- `drain()` runs whatever is left. The app's lifespan calls it at shutdown, before the Sentry
  transports are drained.

This is a scheduling policy, not a protocol. No maintained library runs low-priority callbacks
on asyncio when the application is idle, so it is written here. The caller reports requests
starting and finishing; the queue knows nothing of Sentry.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import logging
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)

MAX_PENDING = 32
MAX_AGE_SECONDS = 1.0


class IdleQueue:
    def __init__(self, max_pending: int = MAX_PENDING, max_age: float = MAX_AGE_SECONDS) -> None:
        self.max_pending = max_pending
        self.max_age = max_age
        self.in_flight = 0
        self._pending: collections.deque[tuple[float, contextvars.Context, Callable[[], object]]] = collections.deque()
        self._scheduled = False
        self.deferred_total = 0  # how many items waited (tests, benchmarks)

    def __len__(self) -> int:
        return len(self._pending)

    def request_started(self) -> None:
        self.in_flight += 1

    def request_finished(self) -> None:
        self.in_flight -= 1
        if self.in_flight == 0 and self._pending and not self._scheduled:
            self._schedule()

    def run_or_defer(self, work: Callable[[], object]) -> None:
        """`work` now if the calling request is the only one in flight, else once none is."""
        if self.in_flight <= 1 or not self._loop_running():
            _run(work)
            return
        now = time.monotonic()
        self._pending.append((now, contextvars.copy_context(), work))
        self.deferred_total += 1
        while self._pending and (len(self._pending) > self.max_pending or now - self._pending[0][0] > self.max_age):
            _, context, oldest = self._pending.popleft()
            context.run(_run, oldest)

    def drain(self) -> None:
        """Run everything still queued (at shutdown)."""
        while self._pending:
            _, context, work = self._pending.popleft()
            context.run(_run, work)

    def _schedule(self) -> None:
        self._scheduled = True
        asyncio.get_running_loop().call_soon(self._run_next)

    def _run_next(self) -> None:
        self._scheduled = False
        if self.in_flight or not self._pending:
            return  # a request came in: it goes first; its end schedules the rest
        _, context, work = self._pending.popleft()
        context.run(_run, work)
        if self._pending:
            self._schedule()

    @staticmethod
    def _loop_running() -> bool:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return False
        return True


def _run(work: Callable[[], object]) -> None:
    try:
        work()
    except Exception:  # deferred work must not take down the loop's callback, nor the next item
        logger.exception("deferred work failed")
