"""Real processes on free loopback ports for the live monitoring test: capture server, backend
(gunicorn + backend/gunicorn_conf.py, metrics on its own port, fault injection on), node-exporter,
Alertmanager and Prometheus with the fast profile. Each is stopped by its own PID."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from monitoring import native

REPO = native.REPO
BACKEND = REPO / "backend"
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what: str, probe: Callable[[], Any], timeout: float, interval: float = 0.25) -> Any:
    """Poll `probe` until it returns something truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = probe()
            if result:
                return result
        except (OSError, ValueError, KeyError) as exc:  # not up yet
            last_error = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last error: {last_error})")


def http_json(method: str, url: str, body: Any = None, headers: dict | None = None, timeout: float = 5) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        raw = resp.read()
    return json.loads(raw) if raw else None


def http_status(url: str, timeout: float = 2) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


class Proc:
    def __init__(self, name: str, argv: list[str], log_dir: Path, env: dict | None = None, cwd: Path | None = None):
        self.name = name
        self.log = log_dir / f"{name}.log"
        self.popen = subprocess.Popen(argv, cwd=cwd, env={**os.environ, **(env or {})},
                                      stdout=self.log.open("wb"), stderr=subprocess.STDOUT,
                                      start_new_session=True)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 15) -> None:
        if self.popen.poll() is not None:
            return
        self.popen.send_signal(signal.SIGTERM)  # our own child, by PID
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def psql(sql: str) -> None:
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1",
                    "-qc", sql], check=True, capture_output=True, timeout=60)


class Database:
    """A PostgreSQL database of our own, migrated with Alembic, dropped afterwards."""

    def __init__(self) -> None:
        self.name = f"ns_monitoring_{uuid.uuid4().hex[:10]}"
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{self.name}"

    def create(self) -> Database:
        psql(f'CREATE DATABASE "{self.name}"')
        subprocess.run([str(VENV_BIN / "alembic"), "upgrade", "head"], cwd=BACKEND, check=True,
                       env={**os.environ, "DATABASE_URL": self.url}, capture_output=True, timeout=120)
        return self

    def drop(self) -> None:
        psql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def start_capture(log_dir: Path) -> tuple[Proc, str]:
    port = free_port()
    proc = Proc("capture", [sys.executable, str(REPO / "infra/local/capture_server.py"), "--port", str(port)], log_dir)
    url = f"http://127.0.0.1:{port}"
    wait_for("capture server", lambda: http_status(f"{url}/health") == 200, 15)
    return proc, url


def start_backend(log_dir: Path, database_url: str, capture_url: str, workers: int = 2) -> tuple[Proc, str, str]:
    api, metrics = free_port(), free_port()
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": "redis://127.0.0.1:6379/14",
        "REDIS_KEY_PREFIX": f"nsmon{uuid.uuid4().hex[:8]}:",
        "GUNICORN_BIND": f"127.0.0.1:{api}",
        "METRICS_PORT": str(metrics),
        "WEB_CONCURRENCY": str(workers),
        "PROMETHEUS_MULTIPROC_DIR": str(log_dir / "multiproc"),
        "FAULT_INJECTION_ENABLED": "true",
        "FAULT_STATE_FILE": str(log_dir / "faults.json"),
        "PAYMENT_PROVIDER_URL": f"{capture_url}/payments",
        "MIXPANEL_API_URL": f"{capture_url}/mixpanel",
        "MIXPANEL_TOKEN": "monitoring-live-test",
        "SENTRY_SPOTLIGHT_URL": f"{capture_url}/webhook/spotlight",
        "RATE_LIMIT_AUTH_PER_MINUTE": "0",
        "ENVIRONMENT": "test",
        "LOG_LEVEL": "WARNING",
    }
    proc = Proc("backend", [str(VENV_BIN / "gunicorn"), "-c", "gunicorn_conf.py"], log_dir, env=env, cwd=BACKEND)
    api_url, metrics_url = f"http://127.0.0.1:{api}", f"http://127.0.0.1:{metrics}"

    def ready() -> bool:
        if not proc.alive():
            raise AssertionError(f"backend exited:\n{proc.tail()}")
        return http_status(f"{api_url}/ready") == 200 and http_status(f"{metrics_url}/metrics") == 200

    wait_for("backend /ready and /metrics", ready, 60)
    return proc, api_url, f"127.0.0.1:{metrics}"


def start_node_exporter(log_dir: Path) -> tuple[Proc, str]:
    port = free_port()
    proc = Proc("node-exporter", ["prometheus-node-exporter", "--no-collector.systemd",
                                  f"--web.listen-address=127.0.0.1:{port}"], log_dir)
    wait_for("node-exporter", lambda: http_status(f"http://127.0.0.1:{port}/metrics") == 200, 15)
    return proc, f"127.0.0.1:{port}"


def start_alertmanager(log_dir: Path, capture_url: str, profile: str = "fast") -> tuple[Proc, str]:
    config = native.write_alertmanager_config(log_dir / "alertmanager", profile, capture_url=capture_url, env={})
    port = free_port()
    # cwd=/ proves the secret files resolve against the config's folder, not the working directory.
    proc = Proc("alertmanager", ["prometheus-alertmanager", f"--config.file={config}",
                                 f"--storage.path={log_dir / 'alertmanager' / 'data'}",
                                 f"--web.listen-address=127.0.0.1:{port}", f"--web.external-url=http://127.0.0.1:{port}",
                                 "--cluster.listen-address="],
                log_dir, cwd=Path("/"))
    url = f"http://127.0.0.1:{port}"
    wait_for("alertmanager", lambda: http_status(f"{url}/-/ready") == 200, 20)
    return proc, url


def start_prometheus(log_dir: Path, targets: dict[str, str], alertmanager: str,
                     profile: str = "fast") -> tuple[Proc, str]:
    port = free_port()
    targets = {**targets, "prometheus": f"127.0.0.1:{port}"}
    config = native.write_prometheus_config(log_dir / "prometheus.yml", profile, targets=targets,
                                            alertmanager=alertmanager, environment="test")
    proc = Proc("prometheus", ["prometheus", f"--config.file={config}",
                               f"--storage.tsdb.path={log_dir / 'tsdb'}",
                               f"--web.listen-address=127.0.0.1:{port}", "--rules.alert.resend-delay=1s"], log_dir)
    url = f"http://127.0.0.1:{port}"
    wait_for("prometheus", lambda: http_status(f"{url}/-/ready") == 200, 30)
    return proc, url


def prom_query(prometheus_url: str, expr: str) -> list[dict]:
    from monitoring.dashboards.queries import instant_query

    return instant_query(prometheus_url, expr)


def prom_alerts(prometheus_url: str) -> list[dict]:
    return http_json("GET", f"{prometheus_url}/api/v1/alerts")["data"]["alerts"]


def captured(capture_url: str, kind: str) -> list[dict]:
    return http_json("GET", f"{capture_url}/api/captured?kind={kind}")
