"""How a long run (the harness, the capacity ramp) ends on Ctrl-C, SIGTERM or an error of its own:
as a failure in its report, after its finally-block has stopped the stack, never as a bare traceback.

    interrupt_on_sigterm()
    try:
        ...
    except (KeyboardInterrupt, Exception) as exc:  # noqa: BLE001 - report, then stop the stack
        record(failures, "harness", exc)
    finally:
        stack.down()
"""

from __future__ import annotations

import signal
import traceback


def interrupt_on_sigterm() -> None:
    """SIGTERM raises KeyboardInterrupt, so the run's finally-block (stack down) runs on it too."""
    def on_signal(signum, _frame):  # noqa: ANN001, ANN202 - a signal handler
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_signal)


def record(failures: list[str], runner: str, exc: BaseException) -> None:
    """Called in the except-block: an interruption is "interrupted (...)"; an error is named, its
    traceback printed."""
    if isinstance(exc, KeyboardInterrupt):
        failures.append(f"interrupted ({exc})")
        return
    failures.append(f"{runner} error: {type(exc).__name__}: {exc}")
    traceback.print_exc()
