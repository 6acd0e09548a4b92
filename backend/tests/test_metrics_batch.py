"""app/core/metrics_batch.py: batched updates store exactly what one-by-one updates store."""

from __future__ import annotations

import threading

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from app.core import metrics
from app.core.metrics_batch import Batch, Direct

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 1.0)
# on a bound, between bounds, below the first, above the last (+Inf), zero, repeated
VALUES = (0.005, 0.0049, 0.0051, 0.01, 0.3, 1.0, 1.0000001, 42.0, 0.0, 0.005, 0.07)


def _metrics(registry: CollectorRegistry) -> tuple[Counter, Gauge, Histogram]:
    return (Counter("c_total", "c", ["k"], registry=registry), Gauge("g", "g", ["k"], registry=registry),
            Histogram("h_seconds", "h", ["k"], buckets=BUCKETS, registry=registry))


def _exposed(registry: CollectorRegistry) -> list[bytes]:
    """The text exposition without the *_created samples (the time each child was made)."""
    return [line for line in generate_latest(registry).splitlines() if b"_created" not in line]


def test_a_flushed_batch_exposes_what_observing_one_by_one_exposes() -> None:
    one_by_one, batched = CollectorRegistry(), CollectorRegistry()
    (c1, g1, h1), (c2, g2, h2) = _metrics(one_by_one), _metrics(batched)
    batch = Batch()
    for value in VALUES:
        for key in ("a", "b"):
            c1.labels(key).inc()
            h1.labels(key).observe(value)
            batch.inc(c2.labels(key))
            batch.observe(h2.labels(key), value)
    for _ in range(3):
        g1.labels("a").inc()
        batch.inc(g2.labels("a"), 1.0)
    g1.labels("a").dec()
    batch.inc(g2.labels("a"), -1.0)

    # nothing is written before flush()
    assert batched.get_sample_value("h_seconds_count", {"k": "a"}) == 0
    assert batched.get_sample_value("c_total", {"k": "a"}) == 0
    assert batched.get_sample_value("g", {"k": "a"}) == 0
    batch.flush()
    assert _exposed(batched) == _exposed(one_by_one)

    batch.flush()  # a second flush with nothing pending changes nothing
    assert _exposed(batched) == _exposed(one_by_one)


def test_increments_made_while_another_thread_flushes_are_all_kept() -> None:
    registry = CollectorRegistry()
    counter, _gauge, histogram = _metrics(registry)
    batch = Batch()
    child, hist = counter.labels("x"), histogram.labels("x")
    n = 20_000
    stop = threading.Event()

    def flush_until_stopped() -> None:
        while not stop.is_set():
            batch.flush()

    flusher = threading.Thread(target=flush_until_stopped)
    flusher.start()
    try:
        for i in range(n):
            batch.inc(child)
            batch.observe(hist, 0.02 if i % 2 else 2.0)
    finally:
        stop.set()
        flusher.join()
    batch.flush()
    assert child._value.get() == n
    assert registry.get_sample_value("h_seconds_count", {"k": "x"}) == n
    assert registry.get_sample_value("h_seconds_bucket", {"k": "x", "le": "0.025"}) == n / 2


def test_one_process_writes_straight_through() -> None:
    registry = CollectorRegistry()
    counter, _gauge, histogram = _metrics(registry)
    direct = Direct()
    direct.inc(counter.labels("x"))
    direct.observe(histogram.labels("x"), 0.02)
    assert registry.get_sample_value("c_total", {"k": "x"}) == 1
    assert registry.get_sample_value("h_seconds_count", {"k": "x"}) == 1
    # the test process has no PROMETHEUS_MULTIPROC_DIR: the app's helpers write at once there
    assert isinstance(metrics.batch, Direct) is (not metrics.MULTIPROCESS)
