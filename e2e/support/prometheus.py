"""Instant queries against the stack's Prometheus."""

from __future__ import annotations

import httpx


def value(prometheus_url: str, query: str) -> float:
    """Sum of an instant vector (0 when it is empty)."""
    response = httpx.get(f"{prometheus_url}/api/v1/query", params={"query": query}, timeout=5)
    response.raise_for_status()
    body = response.json()
    assert body["status"] == "success", body
    return sum(float(sample["value"][1]) for sample in body["data"]["result"])


def values(prometheus_url: str, queries: dict[str, str]) -> dict[str, float]:
    return {name: value(prometheus_url, q) for name, q in queries.items()}
