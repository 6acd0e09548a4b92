"""The request path's metric updates, added up in memory and handed to prometheus_client in batches.

In multiprocess mode every prometheus_client `inc()`/`observe()` takes a lock, checks the process ID
(a system call) and writes the worker's mmap file, a histogram observation twice. A request makes
six or seven of them (in flight up and down, its count, its latency, API usage, the cache lookup;
one more per SQL statement), a quarter of what the instrumentation adds to a cached read
(docs/benchmarks.md, "Instruction counts"). Here each is one addition to a dict; `flush()` then
writes each sum once: counter and gauge children by `inc(total)`, histogram children by their sum
and one write per bucket touched, which stores exactly what observing each value would have.

Each worker flushes every FLUSH_SECONDS (the METRICS_FLUSH_SECONDS setting) from a task of the
app's lifespan (app/api/main.py), once more at shutdown and at exit, so a scrape sees a worker's
requests at most FLUSH_SECONDS late (below the fastest scrape interval in use, 1 s). A worker killed by SIGKILL loses its last
FLUSH_SECONDS of counts, as it loses the requests it was serving. In one process (no
PROMETHEUS_MULTIPROC_DIR) prometheus_client's values are locked floats, cheap to write: there
everything goes straight through and nothing waits for a flush.

Written by hand: prometheus_client has no batched writes. The histogram part uses its children's
`_upper_bounds`, `_sum` and `_buckets` (0.26); tests/test_metrics_batch.py compares a batched
histogram's exposition with one observed value by value.
"""

from __future__ import annotations

import asyncio
import threading
from bisect import bisect_left
from typing import Any

FLUSH_SECONDS = 0.25


class Batch:
    """Sums of counter/gauge increments and histogram observations per metric child, until flush()."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # the loop thread adds; flush() may run on another (atexit)
        self._counts: dict[Any, float] = {}
        self._observations: dict[Any, list[Any]] = {}

    def inc(self, child: Any, amount: float = 1.0) -> None:
        """A counter's or gauge's inc (a negative amount: a gauge's dec)."""
        with self._lock:
            counts = self._counts
            counts[child] = counts.get(child, 0.0) + amount

    def observe(self, child: Any, value: float) -> None:
        """A histogram child's observe(value), without an exemplar."""
        with self._lock:
            pending = self._observations.get(child)
            if pending is None:
                pending = self._observations[child] = [0.0, [0] * len(child._upper_bounds)]
            pending[0] += value
            # the bucket prometheus_client's observe() picks: the first upper bound >= value (+Inf last)
            pending[1][bisect_left(child._upper_bounds, value)] += 1

    def flush(self) -> None:
        with self._lock:
            counts, self._counts = self._counts, {}
            observations, self._observations = self._observations, {}
        for child, amount in counts.items():
            if amount:
                child.inc(amount)
        for child, (total, buckets) in observations.items():
            child._sum.inc(total)
            for index, n in enumerate(buckets):
                if n:
                    child._buckets[index].inc(n)

    async def flush_every(self, seconds: float = FLUSH_SECONDS) -> None:
        while True:
            await asyncio.sleep(seconds)
            self.flush()


class Direct:
    """The same calls, written through at once (one process: nothing to batch)."""

    @staticmethod
    def inc(child: Any, amount: float = 1.0) -> None:
        child.inc(amount)

    @staticmethod
    def observe(child: Any, value: float) -> None:
        child.observe(value)

    def flush(self) -> None:
        pass

    async def flush_every(self, seconds: float = FLUSH_SECONDS) -> None:
        return  # nothing is ever pending: the task ends at once
