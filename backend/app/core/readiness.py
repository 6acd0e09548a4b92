"""Readiness (what /ready answers) of this instance's own life cycle: true once start-up has
finished, false again the moment SIGTERM/SIGINT arrives, so a load balancer stops sending traffic
while in-flight requests drain. The server's own signal handler (uvicorn: stop accepting, drain)
still runs after ours. `lifecycle_state` names which ("starting", "serving", "draining");
app/api/health.py adds the one dependency the instance cannot serve without (PostgreSQL)."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any

from starlette.datastructures import State


def _chain_shutdown_signals(state: State) -> list[tuple[int, Any]]:
    if threading.current_thread() is not threading.main_thread():
        return []
    previous: list[tuple[int, Any]] = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        prev = signal.getsignal(signum)
        if not callable(prev):
            continue

        def handler(sig: int, frame: Any, prev: Any = prev) -> None:
            state.ready = False
            state.draining = True
            prev(sig, frame)

        signal.signal(signum, handler)
        previous.append((signum, prev))
    return previous


@contextlib.contextmanager
def ready_until_shutdown(state: State) -> Iterator[None]:
    """`state.ready` is true inside the block, until a shutdown signal arrives."""
    restored = _chain_shutdown_signals(state)
    state.ready = True
    try:
        yield
    finally:
        state.ready = False
        state.draining = True
        for signum, prev in restored:
            with contextlib.suppress(ValueError):
                signal.signal(signum, prev)


def is_ready(state: State) -> bool:
    return bool(getattr(state, "ready", False))


def lifecycle_state(state: State) -> str:
    """"serving", or why this instance must not get traffic: "starting" or "draining"."""
    if is_ready(state):
        return "serving"
    return "draining" if getattr(state, "draining", False) else "starting"
