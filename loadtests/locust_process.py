"""Locust as its own process (it monkey-patches the interpreter): headless, bounded in users and
run time, loopback only, CSV statistics; stopped by PID."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCUST = ROOT / ".venv" / "bin" / "locust"
LOCUSTFILE = ROOT / "loadtests" / "locustfile.py"
SPAWN_RATE = 2


@dataclass
class LocustStats:
    requests: int = 0
    failures: int = 0
    rps: float = 0.0
    failures_by_name: dict[str, int] | None = None


class LocustProcess:
    def __init__(self, host: str, users: int, user_classes: tuple[str, ...], max_run_time_s: int,
                 csv_prefix: Path, frontend_url: str = "", accounts_file: Path | None = None,
                 workers: int = 0) -> None:
        """workers > 0: distributed Locust, a master and that many worker processes (`--processes`,
        Locust's fork of --master/--worker; the CSV statistics are the master's, over all workers)."""
        if not host.startswith(("http://127.0.0.1", "http://localhost")):
            raise ValueError(f"load goes to loopback only, not {host}")
        self.host, self.users, self.classes = host, users, user_classes
        self.max_run_time_s, self.csv_prefix, self.frontend_url = max_run_time_s, csv_prefix, frontend_url
        self.accounts_file = accounts_file
        self.workers = workers
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.csv_prefix.parent.mkdir(parents=True, exist_ok=True)
        cmd = [str(LOCUST), "-f", str(LOCUSTFILE), "--headless", "--host", self.host,
               # 2 users/s: 16 sign-ups at once queue on argon2 for seconds (a thundering herd that
               # would spend the latency SLO in a young Prometheus); a ramp is also what real traffic does
               "-u", str(self.users), "-r", str(SPAWN_RATE), "--run-time", f"{self.max_run_time_s}s",
               "--stop-timeout", "3", "--csv", str(self.csv_prefix), "--only-summary",
               "--loglevel", "WARNING", "--exit-code-on-error", "0",
               *(["--processes", str(self.workers)] if self.workers else []), *self.classes]
        env = {**os.environ, "PYTHONPATH": str(ROOT), "LOADTEST_FRONTEND_URL": self.frontend_url,
               "LOADTEST_ACCOUNTS_FILE": str(self.accounts_file or "")}
        log = open(self.csv_prefix.with_suffix(".log"), "wb")  # noqa: SIM115 - handed to the child
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM (Locust stops its users and writes the CSV), then SIGKILL the group if needed."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.proc = None

    def stats(self) -> LocustStats:
        path = Path(f"{self.csv_prefix}_stats.csv")
        out = LocustStats(failures_by_name={})
        if not path.exists():
            return out
        with path.open() as fh:
            for row in csv.DictReader(fh):
                if row.get("Name") == "Aggregated":
                    out.requests = int(row["Request Count"])
                    out.failures = int(row["Failure Count"])
                    out.rps = float(row["Requests/s"] or 0)
                elif int(row.get("Failure Count") or 0):
                    out.failures_by_name[f"{row['Type']} {row['Name']}"] = int(row["Failure Count"])
        return out
