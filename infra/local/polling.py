"""Poll with a deadline instead of sleeping and hoping: the one `wait_until` of the project.

Used by the stack's readiness probes and, through infra/testkit, by every test suite.
"""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class WaitTimeout(AssertionError, TimeoutError):
    """The awaited condition did not hold in time (an AssertionError for pytest, a TimeoutError for tools)."""


def wait_until(check: Callable[[], T], timeout: float = 20.0, interval: float = 0.25, what: str = "",
               give_up: Callable[[], str | None] | None = None) -> T:
    """Call `check` until it returns something truthy, and return that.

    A check that raises (AssertionError while a condition does not hold yet, a connection error
    while a server starts) is called again; on timeout the last error is part of the message.
    `give_up` (e.g. "the process exited") stops the wait early with the reason it returns.
    """
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while True:
        try:
            value = check()
            if value:
                return value
            last = None
        except Exception as exc:  # noqa: BLE001 - polling something that is not there yet
            last = exc
        reason = give_up() if give_up is not None else None
        if reason or time.monotonic() >= deadline:
            label = f" waiting for {what}" if what else ""
            why = reason or f"timed out after {timeout:.0f}s"
            detail = f": {last}" if last is not None else ""
            raise WaitTimeout(f"{why}{label}{detail}") from None
        time.sleep(interval)


def http_ok(url: str, timeout: float = 1.0) -> bool:
    """True when `url` answers 2xx."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return 200 <= resp.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def tcp_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
