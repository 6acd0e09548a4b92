"""The backend's fault switch (`/_faults`, docs/contracts.md "Fault injection"): on for a block, always off after."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx


def clear(backend_url: str) -> None:
    httpx.delete(f"{backend_url}/_faults", timeout=5).raise_for_status()


@contextmanager
def injected(backend_url: str, **faults: Any) -> Iterator[dict]:
    """e.g. `with injected(url, error_ratio=1.0, error_routes=["/api/projects"]):` -- cleared even on failure."""
    response = httpx.put(f"{backend_url}/_faults", json=faults, timeout=5)
    response.raise_for_status()
    try:
        yield response.json()
    finally:
        clear(backend_url)
