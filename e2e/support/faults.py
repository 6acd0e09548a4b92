"""The backend's fault switch (`/_faults`, docs/contracts.md "Fault injection"): on for a block, always off after."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from infra.testkit import Faults


def clear(backend_url: str) -> None:
    Faults(backend_url).clear()


@contextmanager
def injected(backend_url: str, **faults: Any) -> Iterator[dict]:
    """e.g. `with injected(url, error_ratio=1.0, error_routes=["/api/projects"]):` -- cleared even on failure."""
    with Faults(backend_url).injected(**faults) as applied:
        yield applied
