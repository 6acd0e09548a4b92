"""Trace-ID exemplars for the latency histogram in prometheus_client multiprocess mode.

Written by hand because prometheus_client does not implement exemplars in multiprocess mode
(`MultiProcessValue.set_exemplar` is a TODO in 0.26). Each worker keeps the latest exemplar per
(method, route, bucket) in memory -- only sampled requests get here -- and rewrites one small
JSON file, `exemplars_<pid>.json` in PROMETHEUS_MULTIPROC_DIR, at most once a second. The metrics
server in the gunicorn master (app/core/metrics_server.py) attaches the newest exemplar of each
bucket to the merged histogram, served in the OpenMetrics format Prometheus asks for.
"""

from __future__ import annotations

import glob
import json
import os
import time
from typing import Any

from prometheus_client.samples import Exemplar

HISTOGRAM = "http_request_duration_seconds"
FLUSH_INTERVAL_SECONDS = 1.0
_BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)

_latest: dict[str, list[Any]] = {}
_last_flush = 0.0


def _bucket_le(value: float) -> str:
    for bound in _BOUNDS:
        if value <= bound:
            return repr(float(bound))
    return "+Inf"


def record(method: str, route: str, value: float, trace_id: str) -> None:
    global _last_flush
    now = time.time()
    key = f"{method}\x00{route}\x00{_bucket_le(value)}"
    new_key = key not in _latest
    _latest[key] = [trace_id, value, now]
    if new_key or now - _last_flush >= FLUSH_INTERVAL_SECONDS:  # new keys are bounded (routes x buckets)
        _last_flush = now
        flush()


def flush() -> None:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory or not _latest:
        return
    path = os.path.join(directory, f"exemplars_{os.getpid()}.json")
    tmp = path + ".tmp"
    try:
        with open(tmp, "w") as fh:
            json.dump(_latest, fh)
        os.replace(tmp, path)
    except OSError:
        pass  # exemplars are best effort; never fail a request for them


def remove_for_pid(pid: int, directory: str) -> None:
    try:
        os.remove(os.path.join(directory, f"exemplars_{pid}.json"))
    except OSError:
        pass


def load(directory: str) -> dict[tuple[str, str, str], Exemplar]:
    """Newest exemplar per (method, route, le) over all workers' files."""
    newest: dict[tuple[str, str, str], list[Any]] = {}
    for path in glob.glob(os.path.join(directory, "exemplars_*.json")):
        try:
            with open(path) as fh:
                data = json.load(fh)
        except (OSError, ValueError):
            continue
        for key, entry in data.items():
            parts = tuple(key.split("\x00"))
            if len(parts) != 3:
                continue
            if parts not in newest or newest[parts][2] < entry[2]:
                newest[parts] = entry
    return {k: Exemplar({"trace_id": v[0]}, float(v[1]), float(v[2])) for k, v in newest.items()}


def attach(metric: Any, directory: str) -> None:
    """Give the merged histogram's bucket samples their exemplars (in place)."""
    found = load(directory)
    if not found:
        return
    samples = []
    for sample in metric.samples:
        if sample.name == HISTOGRAM + "_bucket":
            labels = sample.labels
            exemplar = found.get((labels.get("method", ""), labels.get("route", ""), labels.get("le", "")))
            if exemplar is not None:
                sample = sample._replace(exemplar=exemplar)
        samples.append(sample)
    metric.samples = samples
