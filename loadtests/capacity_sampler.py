"""Server-side figures the backend's /metrics cannot give, sampled once a second during the ramp:
PostgreSQL (pg_stat_activity and pg_stat_database of the ramp's own database, and the CPU of the
server processes serving it), Redis (INFO: commands/s, server CPU, clients) and the CPU of the
backend's and Locust's process trees (psutil, by the PIDs this run started).

The stack's Prometheus carries PostgreSQL/Redis exporter series when the stack runs the exporters;
this sampler reads the servers directly so the report has the figures either way. A figure that
cannot be read is None (the report says "–"), never a crash: the ramp must not fail because a
statistics view is unreadable.

System PostgreSQL and Redis are shared with other databases on this machine: the PostgreSQL
figures are filtered to the ramp's database; Redis INFO is server-wide (stated in the report).
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlparse

import psutil

PG_ACTIVITY = """
SELECT pid, state, wait_event_type FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()
"""
PG_DATABASE = "SELECT xact_commit + xact_rollback, blks_read, blks_hit, deadlocks FROM pg_stat_database WHERE datname = $1"


@dataclass
class Sample:
    t: float
    pg_connections: int | None = None
    pg_active: int | None = None
    pg_waiting: int | None = None  # active and waiting on a lock
    pg_xacts: float | None = None  # cumulative counters (differences make rates)
    pg_blks_read: float | None = None
    pg_blks_hit: float | None = None
    pg_cpu_s: float | None = None  # cumulative CPU seconds of the server processes seen so far
    redis_commands: float | None = None
    redis_cpu_s: float | None = None
    redis_clients: int | None = None
    backend_cpu_s: float | None = None
    locust_cpu_s: float | None = None


def _tree_cpu(pid: int | None, seen: dict[int, float]) -> float | None:
    """Cumulative CPU seconds of a process and its children, keeping exited children's last value."""
    if pid is None:
        return None
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return sum(seen.values()) if seen else None
    for p in procs:
        try:
            t = p.cpu_times()
            seen[p.pid] = t.user + t.system + t.children_user + t.children_system
        except psutil.Error:
            pass
    return sum(seen.values())


@dataclass
class Sampler:
    database_url: str
    redis_url: str
    backend_pid: int | None = None
    locust_pid: int | None = None
    interval: float = 1.0
    samples: list[Sample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._backend_seen: dict[int, float] = {}
        self._locust_seen: dict[int, float] = {}
        self._pg_seen: dict[int, float] = {}
        url = urlparse(self.database_url.replace("+asyncpg", ""))
        self.database = url.path.lstrip("/")
        self._dsn = url._replace(path="/" + self.database).geturl()

    def start(self) -> None:
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), name="capacity-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def _note(self, what: str, exc: Exception) -> None:
        msg = f"{what}: {type(exc).__name__}: {exc}"
        if msg not in self.errors:
            self.errors.append(msg)

    async def _run(self) -> None:
        import asyncpg  # noqa: PLC0415 - the backend's driver, only needed in this thread
        import redis  # noqa: PLC0415

        pg = None
        r = redis.Redis.from_url(self.redis_url, socket_timeout=2)
        while not self._stop.is_set():
            s = Sample(time.time())
            try:
                if pg is None:
                    pg = await asyncpg.connect(self._dsn, timeout=5)
                rows = await pg.fetch(PG_ACTIVITY, self.database)
                s.pg_connections = len(rows)
                s.pg_active = sum(1 for x in rows if x["state"] == "active")
                s.pg_waiting = sum(1 for x in rows if x["state"] == "active" and x["wait_event_type"] == "Lock")
                db = await pg.fetchrow(PG_DATABASE, self.database)
                if db:
                    s.pg_xacts, s.pg_blks_read, s.pg_blks_hit = float(db[0]), float(db[1]), float(db[2])
                for x in rows:
                    try:
                        t = psutil.Process(x["pid"]).cpu_times()
                        self._pg_seen[x["pid"]] = t.user + t.system
                    except psutil.Error:
                        pass
                s.pg_cpu_s = sum(self._pg_seen.values())
            except Exception as exc:  # noqa: BLE001 - degrade: the figure is missing, the ramp goes on
                self._note("PostgreSQL statistics", exc)
                pg = None
            try:
                info = r.info()
                s.redis_commands = float(info.get("total_commands_processed", 0))
                s.redis_cpu_s = float(info.get("used_cpu_user", 0)) + float(info.get("used_cpu_sys", 0))
                s.redis_clients = int(info.get("connected_clients", 0))
            except Exception as exc:  # noqa: BLE001 - as above
                self._note("Redis INFO", exc)
            s.backend_cpu_s = _tree_cpu(self.backend_pid, self._backend_seen)
            s.locust_cpu_s = _tree_cpu(self.locust_pid, self._locust_seen)
            self.samples.append(s)
            await asyncio.sleep(max(0.0, self.interval - (time.time() - s.t)))
        if pg is not None:
            await pg.close()
        r.close()

    # --- per window ------------------------------------------------------------------------------
    def window(self, start: float, end: float) -> dict[str, float | None]:
        """Rates and peaks over [start, end]: None when no sample had the figure."""
        inside = [s for s in self.samples if start <= s.t <= end]

        def rate(attr: str) -> float | None:
            pts = [(s.t, getattr(s, attr)) for s in inside if getattr(s, attr) is not None]
            if len(pts) < 2 or pts[-1][0] <= pts[0][0]:
                return None
            return max(0.0, (pts[-1][1] - pts[0][1]) / (pts[-1][0] - pts[0][0]))

        def peak(attr: str) -> float | None:
            vals = [getattr(s, attr) for s in inside if getattr(s, attr) is not None]
            return max(vals) if vals else None

        def mean(attr: str) -> float | None:
            vals = [getattr(s, attr) for s in inside if getattr(s, attr) is not None]
            return sum(vals) / len(vals) if vals else None

        read, hit = rate("pg_blks_read"), rate("pg_blks_hit")
        return {
            "pg_connections_max": peak("pg_connections"), "pg_active_mean": mean("pg_active"),
            "pg_active_max": peak("pg_active"), "pg_waiting_max": peak("pg_waiting"),
            "pg_xact_rate": rate("pg_xacts"), "pg_cpu_cores": rate("pg_cpu_s"),
            "pg_cache_hit_ratio": (hit / (hit + read)) if read is not None and hit is not None and hit + read > 0 else None,
            "redis_ops_rate": rate("redis_commands"), "redis_cpu_cores": rate("redis_cpu_s"),
            "redis_clients_max": peak("redis_clients"),
            "backend_cpu_cores_psutil": rate("backend_cpu_s"), "locust_cpu_cores": rate("locust_cpu_s"),
        }
