"""Helpers for the observability tests: free ports, polling with a deadline, and processes we
start and stop ourselves (capture server, gunicorn, Spotlight, redis-server, a throwaway
PostgreSQL cluster). Every process is bound to 127.0.0.1 and stopped by its PID."""

from __future__ import annotations

import io as _io
from sentry_sdk.transport import Transport

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

BACKEND_DIR = Path(__file__).resolve().parents[1]
REPO = BACKEND_DIR.parent
PYTHON = sys.executable
DATA = REPO / ".data"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    last_exc: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - polling a thing that is starting
            last_exc = exc
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what or predicate} (last error: {last_exc!r})")


def http(method: str, url: str, body: Any = None, headers: dict | None = None, timeout: float = 5.0) -> tuple[int, dict, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


class Proc:
    def __init__(self, args: list[str], env: dict | None = None, cwd: Path | None = None, log_name: str = "proc") -> None:
        self.log = tempfile.NamedTemporaryFile(prefix=f"ns-{log_name}-", suffix=".log", delete=False)
        self.popen = subprocess.Popen(args, env={**os.environ, **(env or {})}, cwd=cwd, stdout=self.log,
                                      stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def signal(self, sig: int) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)

    def stop(self, timeout: float = 15.0) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        self.log.close()


def start_capture_server() -> tuple[Proc, str]:
    port = free_port()
    proc = Proc([PYTHON, str(REPO / "infra/local/capture_server.py"), "--port", str(port)], log_name="capture")
    base = f"http://127.0.0.1:{port}"
    wait_until(lambda: http("GET", base + "/api/captured")[0] == 200, what="capture server")
    return proc, base


def captured(base: str, kind: str) -> list[dict]:
    return json.loads(http("GET", f"{base}/api/captured?kind={kind}")[2])


def start_gunicorn(env: dict, workers: int = 2) -> tuple[Proc, str, str]:
    api_port, metrics_port = free_port(), free_port()
    full_env = {
        "GUNICORN_BIND": f"127.0.0.1:{api_port}", "METRICS_PORT": str(metrics_port),
        "WEB_CONCURRENCY": str(workers), "GRACEFUL_TIMEOUT": "10", **env,
    }
    proc = Proc([PYTHON, "-m", "gunicorn", "-c", "gunicorn_conf.py"], env=full_env, cwd=BACKEND_DIR, log_name="gunicorn")
    api, metrics = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{metrics_port}"
    wait_until(lambda: http("GET", api + "/ready")[0] == 200, timeout=30, what="gunicorn /ready")
    return proc, api, metrics


def spotlight_bin() -> Path | None:
    runner = REPO / "infra/spotlight/run.sh"
    return runner if (REPO / "infra/spotlight/node_modules/@spotlightjs/spotlight").exists() else None


def start_spotlight() -> tuple[Proc, str]:
    port = free_port()
    proc = Proc(["bash", str(spotlight_bin()), str(port)], log_name="spotlight")
    base = f"http://127.0.0.1:{port}"
    wait_until(lambda: http("GET", base + "/")[0] < 500, timeout=20, what="spotlight")
    return proc, base


def start_redis() -> tuple[Proc, str, int]:
    port = free_port()
    proc = Proc(["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
                log_name="redis")
    wait_until(lambda: socket.create_connection(("127.0.0.1", port), 0.2).close() or True, what="redis-server")
    return proc, f"redis://127.0.0.1:{port}/0", port


PG_BIN = Path("/usr/lib/postgresql/15/bin")


class ThrowawayPostgres:
    """A PostgreSQL cluster of our own under .data/test-pg-*, so it can be restarted freely."""

    def __init__(self) -> None:
        DATA.mkdir(exist_ok=True)
        self.dir = Path(tempfile.mkdtemp(prefix="test-pg-", dir=DATA))
        self.port = free_port()
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root: run it as the postgres user
            args = ("runuser", "-u", "postgres", "--", *args)
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)

    def start(self) -> ThrowawayPostgres:
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run(str(PG_BIN / "initdb"), "-D", str(self.dir / "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self.ctl("start")
        return self

    def ctl(self, action: str, *extra: str) -> None:
        opts = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c fsync=off"
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.dir / "data"), "-o", opts, "-l", str(self.dir / "log"),
                  "-w", "-t", "30", action, *extra)

    def stop(self) -> None:
        try:
            self.ctl("stop", "-m", "immediate")
        except Exception:  # noqa: BLE001 - best effort on teardown
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


class CaptureTransport(Transport):
    """Sentry's test-transport pattern (sentry-python tests/conftest.py): keep envelopes in memory."""

    def __init__(self) -> None:
        super().__init__(None)
        self.envelopes: list = []

    def capture_envelope(self, envelope) -> None:  # noqa: ANN001
        self.envelopes.append(envelope)

    def events(self) -> list[dict]:
        return [item.payload.json for env in self.envelopes for item in env.items if item.type == "event"]

    def raw(self) -> str:
        out = _io.BytesIO()
        for env in self.envelopes:
            env.serialize_into(out)
        return out.getvalue().decode(errors="replace")
