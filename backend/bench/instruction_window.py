"""Count the instructions a block of code executes, under Valgrind's callgrind, all threads included.

    with instruction_window("cached"):   # a no-op unless the process runs under callgrind
        ...

Instruction counts do not depend on the machine's load or speed, so two variants' counts can be
compared to a fraction of a percent on a shared machine where their timings move by ±10%. They are
user-space instructions only (no system calls, no cache misses, no waits), so they rank pieces of
Python work rather than predict wall time.

Callgrind starts and stops counting through client requests, which are C macros
(<valgrind/callgrind.h>): no Python package offers them, so this compiles the four lines below
with the system C compiler once (into the benchmark's cache folder) and calls them through ctypes.
The process must run under `valgrind --tool=callgrind --instr-atstart=no` (`under_callgrind`
builds that command); each window is written as one callgrind dump, named by its label.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from app.core import product

_SOURCE = """
#include <valgrind/callgrind.h>
void instruction_window_open(void) { CALLGRIND_START_INSTRUMENTATION; CALLGRIND_ZERO_STATS; }
void instruction_window_close(const char *label) { CALLGRIND_DUMP_STATS_AT(label); CALLGRIND_STOP_INSTRUMENTATION; }
"""
_CACHE = Path(tempfile.gettempdir()) / f"{product.SLUG}-bench"
_lib: ctypes.CDLL | None = None


def _library() -> ctypes.CDLL:
    global _lib
    if _lib is None:
        _CACHE.mkdir(exist_ok=True)
        path = _CACHE / f"instruction_window_{hashlib.sha256(_SOURCE.encode()).hexdigest()[:12]}.so"
        if not path.exists():  # built under a name of its own, then renamed: parallel runs never load half a file
            build = Path(tempfile.mkdtemp(dir=_CACHE))
            (build / "window.c").write_text(_SOURCE)
            subprocess.run(["cc", "-O1", "-shared", "-fPIC", "-o", str(build / "window.so"), str(build / "window.c")],
                           check=True)
            os.replace(build / "window.so", path)
            shutil.rmtree(build, ignore_errors=True)
        _lib = ctypes.CDLL(str(path))
        _lib.instruction_window_close.argtypes = [ctypes.c_char_p]
    return _lib


@contextlib.contextmanager
def instruction_window(label: str) -> Iterator[None]:
    lib = _library()
    lib.instruction_window_open()
    try:
        yield
    finally:
        lib.instruction_window_close(label.encode())


def under_callgrind(cmd: list[str], out_file_prefix: str, env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """`cmd` run under callgrind with counting off until a window opens, its dumps at `out_file_prefix`.*;
    the hash seed fixed, so dict and set layouts, and with them the instructions, repeat from run to run."""
    return (["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out_file_prefix}", *cmd],
            {**env, "PYTHONHASHSEED": "0"})


_TRIGGER = re.compile(r"^desc: Trigger: Client Request: (.+)$", re.M)
_SUMMARY = re.compile(r"^summary: (\d+)", re.M)


def read_windows(out_file_prefix: str) -> dict[str, int]:
    """{label: instructions} from the dumps callgrind wrote for `--callgrind-out-file=<prefix>`."""
    counts: dict[str, int] = {}
    dumps = Path(out_file_prefix).parent.glob(Path(out_file_prefix).name + ".*")
    for dump in sorted(dumps, key=lambda path: int(path.suffix[1:]) if path.suffix[1:].isdigit() else 0):
        text = dump.read_text(errors="replace")
        trigger, summary = _TRIGGER.search(text), _SUMMARY.search(text)
        if trigger and summary:
            counts[trigger.group(1).strip()] = int(summary.group(1))
    return counts
