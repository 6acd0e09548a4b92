"""The worker side of multiprocess metrics: trace-ID exemplars for the latency histogram.

prometheus_client writes each worker's metric values to PROMETHEUS_MULTIPROC_DIR itself, but does
not implement exemplars in multiprocess mode (`MultiProcessValue.set_exemplar` is a TODO in 0.26),
so this is written by hand. Each worker keeps the latest exemplar per (method, route, bucket) in
memory -- only sampled requests get here -- and rewrites one small JSON file,
`exemplars_<pid>.json` in PROMETHEUS_MULTIPROC_DIR, at most once a second. The reader side
(app/core/metrics_multiprocess_reader.py, in the gunicorn master) merges them.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

HISTOGRAM = "http_request_duration_seconds"
FILE_PREFIX = "exemplars_"
KEY_SEPARATOR = "\x00"  # between method, route and le in a file's keys
FLUSH_INTERVAL_SECONDS = 1.0

_latest: dict[str, list[Any]] = {}
_last_flush = 0.0


def exemplar_file(directory: str, pid: int) -> str:
    return os.path.join(directory, f"{FILE_PREFIX}{pid}.json")


def _bucket_le(value: float, bounds: tuple[float, ...]) -> str:
    for bound in bounds:
        if value <= bound:
            return repr(float(bound))
    return "+Inf"


def record(method: str, route: str, value: float, trace_id: str, bounds: tuple[float, ...]) -> None:
    """Remember the exemplar of the histogram bucket (upper `bounds`) that `value` falls in."""
    global _last_flush
    now = time.time()
    key = KEY_SEPARATOR.join((method, route, _bucket_le(value, bounds)))
    new_key = key not in _latest
    _latest[key] = [trace_id, value, now]
    if new_key or now - _last_flush >= FLUSH_INTERVAL_SECONDS:  # new keys are bounded (routes x buckets)
        _last_flush = now
        _flush()


def _flush() -> None:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory or not _latest:
        return
    path = exemplar_file(directory, os.getpid())
    tmp = path + ".tmp"
    try:
        with open(tmp, "w") as fh:
            json.dump(_latest, fh)
        os.replace(tmp, path)
    except OSError:
        pass  # exemplars are best effort; never fail a request for them
