"""The harness's own native stack: started and stopped through the lead's runner
(`infra/local/stack.py up --profile fast` / `down`), with its own data folder and ports so that it
never clashes with a developer's `make up` or the e2e test stack.

Environment the harness sets (each overridable from the caller's environment):
- `NORTHSTAR_DATA_DIR` = .data/loadtests; every `*_PORT` the caller does not set is a free port
  picked at start (bind to port 0), so parallel test runs on this machine never collide;
- `DATABASE_URL` = .../northstar_loadtest, `REDIS_URL` = redis://127.0.0.1:6379/10 (own DB number);
- `RATE_LIMIT_AUTH_PER_MINUTE` = 100000: every Locust user signs up from 127.0.0.1;
- `ANALYTICS_RETRY_MAX_SECONDS` = 4: the outbox retries at most every 4 s, so a Mixpanel outage
  drains within seconds of recovery (production keeps its 300 s backoff cap);
- `FAULT_INJECTION_ENABLED` = true (the runner's default for the local stack, stated explicitly).

Prometheus' and Alertmanager's storage are wiped before `up`: alerts that compare with the past
(LatencyRegression's day-ago offset, NewErrorType's history) must not see an earlier run.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = ROOT / ".venv" / "bin" / "python"
STACK = ROOT / "infra" / "local" / "stack.py"

PORT_VARS = ("BACKEND_PORT", "BACKEND_METRICS_PORT", "FRONTEND_PORT", "PROMETHEUS_PORT", "ALERTMANAGER_PORT",
             "NODE_EXPORTER_PORT", "SPOTLIGHT_PORT", "CAPTURE_PORT", "LOCAL_PG_PORT", "LOCAL_REDIS_PORT")
DEFAULT_ENV = {
    "NORTHSTAR_DATA_DIR": str(ROOT / ".data" / "loadtests"),
    "DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:5432/northstar_loadtest",
    "REDIS_URL": "redis://127.0.0.1:6379/10",
    "RATE_LIMIT_AUTH_PER_MINUTE": "100000",
    "ANALYTICS_RETRY_MAX_SECONDS": "4",
    "FAULT_INJECTION_ENABLED": "true",
    "SENTRY_TRACES_SAMPLE_RATE": "0.01",
    "SENTRY_PROFILES_SAMPLE_RATE": "0",
}


def free_ports(n: int) -> list[int]:
    """n distinct free loopback ports (bound to port 0 together, then released)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def apply_default_env() -> dict[str, str]:
    """Put the harness defaults into os.environ (caller's values win) and return them.

    Ports not given by the caller are picked free (bound to port 0): other engineers' tests run
    on this machine at the same time, so no fixed port is safe.
    """
    for key, value in DEFAULT_ENV.items():
        os.environ.setdefault(key, value)
    missing = [k for k in PORT_VARS if not os.environ.get(k)]
    for key, port in zip(missing, free_ports(len(missing)), strict=True):
        os.environ[key] = str(port)
    # backend/gunicorn_conf.py reads GUNICORN_BIND / METRICS_PORT, while the runner passes
    # BACKEND_BIND / METRICS_BIND: give both names so the backend listens on the harness's ports.
    os.environ.setdefault("GUNICORN_BIND", f"127.0.0.1:{os.environ['BACKEND_PORT']}")
    os.environ.setdefault("METRICS_PORT", os.environ["BACKEND_METRICS_PORT"])
    # explicit overrides for the harness's database and Redis
    if os.environ.get("LOADTEST_DATABASE_URL"):
        os.environ["DATABASE_URL"] = os.environ["LOADTEST_DATABASE_URL"]
    if os.environ.get("LOADTEST_REDIS_URL"):
        os.environ["REDIS_URL"] = os.environ["LOADTEST_REDIS_URL"]
    return {k: os.environ[k] for k in (*DEFAULT_ENV, *PORT_VARS)}


def data_dir() -> Path:
    return Path(os.environ["NORTHSTAR_DATA_DIR"])


def read_env_file(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep:
            out[key.strip()] = value.strip()
    return out


def frontend_built() -> bool:
    return (ROOT / "frontend" / ".next" / "BUILD_ID").exists()


class NativeStack:
    """up/down through infra/local/stack.py; backend stop/start for the backend_down scenario."""

    def __init__(self, with_frontend: bool, log=print) -> None:
        self.with_frontend = with_frontend
        self.log = log
        self.env: dict[str, str] = {}
        self.pids: dict[str, int] = {}
        self.started = False

    def _runner(self, *args: str, timeout: float) -> subprocess.CompletedProcess:
        return subprocess.run([str(PY), str(STACK), *args], cwd=ROOT, env=os.environ.copy(), timeout=timeout,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def up(self) -> dict[str, str]:
        data = data_dir()
        if (data / "pids").exists() and any((data / "pids").glob("*.pid")):
            self.log("[harness] a previous run left processes behind: stopping them first")
            self._runner("down", timeout=120)
        for sub in ("prometheus", "alertmanager"):
            shutil.rmtree(data / sub, ignore_errors=True)
        (data / "stack.env").unlink(missing_ok=True)
        args = ["up", "--profile", "fast"] + ([] if self.with_frontend else ["--no-frontend"])
        self.started = True  # from here on, `down` must run even if `up` fails half-way
        t0 = time.monotonic()
        # snapshot the pid files while `up` runs: if it fails, the runner removes them in its own
        # cleanup, and we still want to check that what it started is gone
        done = threading.Event()

        def watch() -> None:
            while not done.wait(0.1):
                self.pids.update(self._recorded_pids())
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            proc = self._runner(*args, timeout=300)
        finally:
            done.set()
            watcher.join()
        if proc.returncode != 0:
            raise RuntimeError(f"stack up failed (exit {proc.returncode}):\n{proc.stdout[-4000:]}")
        self.pids.update(self._recorded_pids())
        self.env = read_env_file(data / "stack.env")
        self.log(f"[harness] stack up in {time.monotonic() - t0:.1f}s ({self.env.get('BACKEND_URL')}, "
                 f"Prometheus {self.env.get('PROMETHEUS_URL')})")
        return self.env

    def _recorded_pids(self) -> dict[str, int]:
        out = {}
        for f in (data_dir() / "pids").glob("*.pid"):
            try:
                out[f.stem] = int(f.read_text().split()[0])
            except (OSError, ValueError, IndexError):
                pass
        return out

    def down(self) -> None:
        if not self.started:
            return
        self.pids.update(self._recorded_pids())  # e.g. a restarted backend
        proc = self._runner("down", timeout=180)
        self.started = False
        if proc.returncode != 0:
            self.log(f"[harness] stack down reported exit {proc.returncode}:\n{proc.stdout[-2000:]}")
        self._reap_leftovers()

    def _reap_leftovers(self) -> None:
        """Stop what `down` missed, by the PIDs `up` recorded (process-group leaders we started).

        The runner skips a process whose command line no longer names the recorded executable
        (spotlight's run.sh `exec`s node), leaving it running: stop those groups here.
        """
        for name, pid in self.pids.items():
            if not _exists(pid) or _pgid(pid) != pid:
                continue
            self.log(f"[harness] {name} (pid {pid}) survived `stack.py down`: stopping its process group")
            for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
                try:
                    os.killpg(pid, sig)
                except ProcessLookupError:
                    break
                deadline = time.monotonic() + wait
                while time.monotonic() < deadline and _exists(pid):
                    time.sleep(0.1)
                if not _exists(pid):
                    break
        self.pids = {}

    # --- backend_down ----------------------------------------------------------------------------
    def _backend_pidfile(self) -> Path:
        return data_dir() / "pids" / "backend.pid"

    def backend_pid(self) -> int:
        return int(self._backend_pidfile().read_text().split()[0])

    def stop_backend(self) -> None:
        """SIGTERM the gunicorn master's process group, by the runner's pid file (as `stack.py down` does)."""
        from infra.local import stack as runner  # noqa: PLC0415

        runner.down([self._backend_pidfile()])

    def start_backend(self) -> None:
        """Start the backend again exactly as the runner does (its own Stack.start and backend_env).

        Reusing the runner's functions keeps the command line, environment and pid file identical to `up`.
        """
        sys.path.insert(0, str(ROOT))
        from infra.local import stack as runner  # noqa: PLC0415 - only needed for this scenario

        st = runner.Stack("fast", with_frontend=False, with_monitoring=False)
        benv = st.backend_env(self.env["DATABASE_URL"], self.env["REDIS_URL"])
        self._backend_pidfile().unlink(missing_ok=True)
        st.start_backend(benv)
        url = self.env["BACKEND_URL"] + "/ready"
        runner.wait_for("backend", lambda: runner.http_ok(url), 60, None, data_dir() / "logs" / "backend.log")


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def _exists(pid: int) -> bool:
    from infra.local.stack import process_exists  # noqa: PLC0415

    return process_exists(pid)
