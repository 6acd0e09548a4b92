"""Poll with a deadline instead of sleeping and hoping."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(check: Callable[[], T], timeout: float = 20.0, interval: float = 0.25, what: str = "") -> T:
    """Call `check` until it returns without raising AssertionError (and not None/False); return its value.

    On timeout, re-raise the last AssertionError, prefixed with what we waited for and for how long.
    """
    deadline = time.monotonic() + timeout
    last: AssertionError | None = None
    while True:
        try:
            value = check()
            if value is not None and value is not False:
                return value
            last = AssertionError(f"check returned {value!r}")
        except AssertionError as exc:
            last = exc
        if time.monotonic() >= deadline:
            label = f" waiting for {what}" if what else ""
            raise AssertionError(f"timed out after {timeout:.0f}s{label}: {last}") from None
        time.sleep(interval)
