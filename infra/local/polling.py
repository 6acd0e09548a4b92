"""Poll with a deadline instead of sleeping and hoping: the one `wait_until` of the project.

Used by the stack's readiness probes and, through infra/testkit, by every test suite.
"""

from __future__ import annotations

import asyncio
import inspect
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


class WaitTimeout(AssertionError, TimeoutError):
    """The awaited condition did not hold in time (an AssertionError for pytest, a TimeoutError for tools)."""


class _Deadline:
    """The bookkeeping both waits share: the deadline, the last error, the failure message."""

    def __init__(self, timeout: float, what: str) -> None:
        self.timeout, self.what = timeout, what
        self.end = time.monotonic() + timeout
        self.last: Exception | None = None

    def over(self, reason: str | None = None) -> None:
        """Raise WaitTimeout when `reason` is given or the deadline has passed."""
        if reason or time.monotonic() >= self.end:
            label = f" waiting for {self.what}" if self.what else ""
            why = reason or f"timed out after {self.timeout:.0f}s"
            detail = f": {self.last}" if self.last is not None else ""
            raise WaitTimeout(f"{why}{label}{detail}") from None


def wait_until(check: Callable[[], T], timeout: float = 20.0, interval: float = 0.25, what: str = "",
               give_up: Callable[[], str | None] | None = None) -> T:
    """Call `check` until it returns something truthy, and return that.

    A check that raises (AssertionError while a condition does not hold yet, a connection error
    while a server starts) is called again; on timeout the last error is part of the message.
    `give_up` (e.g. "the process exited") stops the wait early with the reason it returns.
    """
    deadline = _Deadline(timeout, what)
    while True:
        try:
            value = check()
            if value:
                return value
            deadline.last = None
        except Exception as exc:  # noqa: BLE001 - polling something that is not there yet
            deadline.last = exc
        deadline.over(give_up() if give_up is not None else None)
        time.sleep(interval)


async def wait_until_async(check: Callable[[], T | Awaitable[T]], timeout: float = 20.0, interval: float = 0.1,
                           what: str = "") -> T:
    """wait_until for async tests: `check` may return an awaitable (e.g. a database query)."""
    deadline = _Deadline(timeout, what)
    while True:
        try:
            value = check()
            if inspect.isawaitable(value):
                value = await value
            if value:
                return value
            deadline.last = None
        except Exception as exc:  # noqa: BLE001 - as in wait_until
            deadline.last = exc
        deadline.over()
        await asyncio.sleep(interval)


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
