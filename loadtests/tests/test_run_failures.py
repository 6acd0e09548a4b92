"""How the harness and the capacity ramp end on SIGTERM or an error (loadtests/run_failures.py)."""

from __future__ import annotations

import os
import signal

import pytest

from loadtests import run_failures


def test_an_interruption_and_an_error_become_failures_the_error_with_its_traceback(capsys) -> None:
    failures: list[str] = []
    for exc in (KeyboardInterrupt("signal 15"), ValueError("no such series")):
        try:
            raise exc
        except (KeyboardInterrupt, Exception) as caught:  # noqa: BLE001 - as the runs do
            run_failures.record(failures, "harness", caught)
    assert failures == ["interrupted (signal 15)", "harness error: ValueError: no such series"]
    err = capsys.readouterr().err
    assert "Traceback" in err and "ValueError: no such series" in err and "KeyboardInterrupt" not in err


def test_sigterm_raises_keyboard_interrupt_so_the_finally_block_runs() -> None:
    before = signal.getsignal(signal.SIGTERM)
    try:
        run_failures.interrupt_on_sigterm()
        with pytest.raises(KeyboardInterrupt, match=f"signal {int(signal.SIGTERM)}"):
            os.kill(os.getpid(), signal.SIGTERM)
    finally:
        signal.signal(signal.SIGTERM, before)
