"""The reader side of multiprocess metrics: the /metrics endpoint on its own port, served by the
gunicorn master (never by the app's port).

Merges every worker's metric files (prometheus_client MultiProcessCollector), adds the latency
exemplars the workers wrote (app/core/metrics_multiprocess_writer.py) and process metrics summed
over the master and its live workers (MultiProcessCollector drops process metrics; we add them
back with prometheus_client's own ProcessCollector pointed at each PID).
"""

from __future__ import annotations

import glob
import json
import os
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.samples import Exemplar

from app.core.metrics_multiprocess_writer import FILE_PREFIX, HISTOGRAM, KEY_SEPARATOR, exemplar_file

_SUMMED = {"process_cpu_seconds_total", "process_virtual_memory_bytes", "process_resident_memory_bytes",
           "process_open_fds"}


class ExemplarMultiProcessCollector(MultiProcessCollector):
    def collect(self) -> Iterable[Metric]:
        for metric in super().collect():
            if metric.name == HISTOGRAM:
                _attach_exemplars(metric, self._path)
            yield metric


def _load_exemplars(directory: str) -> dict[tuple[str, ...], Exemplar]:
    """Newest exemplar per (method, route, le) over all workers' files."""
    newest: dict[tuple[str, ...], list[Any]] = {}
    for path in glob.glob(os.path.join(directory, FILE_PREFIX + "*.json")):
        try:
            with open(path) as fh:
                data = json.load(fh)
        except (OSError, ValueError):
            continue
        for key, entry in data.items():
            parts = tuple(key.split(KEY_SEPARATOR))
            if len(parts) != 3:
                continue
            if parts not in newest or newest[parts][2] < entry[2]:
                newest[parts] = entry
    return {k: Exemplar({"trace_id": v[0]}, float(v[1]), float(v[2])) for k, v in newest.items()}


def _attach_exemplars(metric: Any, directory: str) -> None:
    """Give the merged histogram's bucket samples their exemplars (in place)."""
    found = _load_exemplars(directory)
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


class SummedProcessCollector:
    """process_* metrics summed over several PIDs (start time: the oldest, max fds: the largest)."""

    def __init__(self, get_pids: Callable[[], Iterable[int]]) -> None:
        self.get_pids = get_pids

    def collect(self) -> Iterable[Metric]:
        merged: dict[str, Metric] = {}
        values: dict[str, float] = {}
        for pid in self.get_pids():
            collector = ProcessCollector(pid=lambda pid=pid: pid, registry=None)
            for metric in collector.collect():
                for sample in metric.samples:
                    name = sample.name
                    if name not in merged:
                        merged[name] = metric
                        values[name] = sample.value
                    elif name in _SUMMED:
                        values[name] += sample.value
                    elif name == "process_start_time_seconds":
                        values[name] = min(values[name], sample.value)
                    else:
                        values[name] = max(values[name], sample.value)
        for name, metric in merged.items():
            out = Metric(metric.name, metric.documentation, metric.type)
            out.add_sample(name, {}, values[name])
            yield out


def build_registry(path: str, get_pids: Callable[[], Iterable[int]]) -> CollectorRegistry:
    registry = CollectorRegistry()
    ExemplarMultiProcessCollector(registry, path=path)
    registry.register(SummedProcessCollector(get_pids))
    return registry


def start(port: int, addr: str, path: str, get_pids: Callable[[], Iterable[int]]) -> Any:
    registry = build_registry(path, get_pids)
    return start_http_server(port, addr=addr, registry=registry)


def wipe(path: str) -> None:
    """Before workers start: stale files from a previous run would be merged in."""
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):
        if name.endswith(".db") or name.startswith(FILE_PREFIX):
            try:
                os.remove(os.path.join(path, name))
            except OSError:
                pass


def process_dead(pid: int, path: str) -> None:
    mark_process_dead(pid, path)
    try:
        os.remove(exemplar_file(path, pid))
    except OSError:
        pass
