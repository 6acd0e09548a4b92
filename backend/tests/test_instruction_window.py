"""bench/instruction_window.py: callgrind counts each window's instructions, and they repeat."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from bench.instruction_window import read_windows, under_callgrind

BACKEND = Path(__file__).resolve().parents[1]
SCRIPT = textwrap.dedent("""
    from bench.instruction_window import instruction_window

    def work(n):
        return sum(i * i for i in range(n))

    work(5000)  # warm up outside any window
    for label, n in (("small", 5000), ("double", 10000), ("small-again", 5000)):
        with instruction_window(label):
            work(n)
    with instruction_window("empty"):
        pass
""")


def test_windows_are_counted_apart_proportionally_and_repeatably(tmp_path: Path) -> None:
    out = tmp_path / "callgrind.out"
    cmd, env = under_callgrind([sys.executable, "-c", SCRIPT], str(out), {**os.environ, "PYTHONPATH": str(BACKEND)})
    subprocess.run(cmd, cwd=BACKEND, check=True, capture_output=True, timeout=300, env=env)
    counts = read_windows(str(out))
    assert list(counts) == ["small", "double", "small-again", "empty"]
    assert abs(counts["small-again"] - counts["small"]) < 0.02 * counts["small"]
    assert 1.8 < counts["double"] / counts["small"] < 2.2
    assert counts["empty"] < 0.05 * counts["small"]


def test_outside_callgrind_a_window_is_a_no_op() -> None:
    from bench.instruction_window import instruction_window

    with instruction_window("native"):
        assert sum(range(10)) == 45
