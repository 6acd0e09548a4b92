"""Instant queries against the stack's Prometheus (the test kit's client)."""

from __future__ import annotations

from infra.testkit import Prometheus


def value(prometheus_url: str, query: str) -> float:
    """Sum of an instant vector (0 when it is empty)."""
    return Prometheus(prometheus_url, timeout=5).value(query)


def values(prometheus_url: str, queries: dict[str, str]) -> dict[str, float]:
    prom = Prometheus(prometheus_url, timeout=5)
    return {name: prom.value(q) for name, q in queries.items()}


# A series counts as "live" when its newest sample is this recent. The test stack runs the fast
# profile (1 s scrapes). Needed because Prometheus keeps its TSDB across stack restarts: a series
# of the previous run's backend stays queryable (5 min lookback) until the new backend reports it
# again, and the new process starts its counters from 0.
FRESH_SECONDS = 5


def live(selector: str) -> str:
    """Sum over the selector's series that the running targets still report (0 when none)."""
    return f"sum(({selector}) and (timestamp({selector}) > time() - {FRESH_SECONDS})) or vector(0)"
