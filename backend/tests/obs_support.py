"""Helpers for the observability tests: the stack's own services started alone on free ports
(capture server, gunicorn, Spotlight, redis-server; infra/local/services.py, through the test kit),
a throwaway PostgreSQL cluster, and an in-memory Sentry transport. Every process is bound to
127.0.0.1 and stopped by its PID."""

from __future__ import annotations

import io as _io
import json
import os
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from sentry_sdk.transport import Transport

from infra.local.services import (PG_BIN, Ports, as_postgres_user, backend_service, capture_service,
                                  redis_service, spotlight_service)
from infra.testkit import Process, free_port, start_service, wait_until  # noqa: F401 - the suites' kit

BACKEND_DIR = Path(__file__).resolve().parents[1]
REPO = BACKEND_DIR.parent


def http(method: str, url: str, body: Any = None, headers: dict | None = None, timeout: float = 5.0) -> tuple[int, dict, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def _logs() -> Path:
    return Path(tempfile.mkdtemp(prefix="ns-service-"))


def start_capture_server() -> tuple[Process, str]:
    ports = Ports.free()
    return start_service(capture_service(ports), _logs()), ports.url("capture")


def captured(base: str, kind: str) -> list[dict]:
    return json.loads(http("GET", f"{base}/api/captured?kind={kind}")[2])


def start_gunicorn(env: dict, workers: int = 2) -> tuple[Process, str, str]:
    ports = Ports.free()
    service = backend_service(ports, {"WEB_CONCURRENCY": str(workers), "GRACEFUL_TIMEOUT": "10", **env})
    return start_service(service, _logs()), ports.url("backend"), ports.url("metrics")


def spotlight_bin() -> Path | None:
    runner = REPO / "infra/spotlight/run.sh"
    return runner if (REPO / "infra/spotlight/node_modules/@spotlightjs/spotlight").exists() else None


def start_spotlight() -> tuple[Process, str]:
    ports = Ports.free()
    return start_service(spotlight_service(ports), _logs()), ports.url("spotlight")


def start_redis() -> tuple[Process, str, int]:
    port = free_port()
    folder = _logs()
    return start_service(redis_service(port, folder), folder), f"redis://127.0.0.1:{port}/0", port


class ThrowawayPostgres:
    """A PostgreSQL cluster of our own in the system's temporary folder, so it can be restarted freely.

    Not under the checkout: as root we run PostgreSQL as the postgres user, who may not be allowed to
    enter the folder a clone lives in (a `mktemp -d` folder is 0700)."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="test-pg-"))
        self.port = free_port()
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        subprocess.run(as_postgres_user(list(args)), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)

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

    def items(self, kind: str) -> list[dict]:
        """The payloads of every item of this type ("event", "transaction", "sessions", ...), in order."""
        return [item.payload.json for env in self.envelopes for item in env.items if item.type == kind]

    def events(self) -> list[dict]:
        return self.items("event")

    def raw(self) -> str:
        out = _io.BytesIO()
        for env in self.envelopes:
            env.serialize_into(out)
        return out.getvalue().decode(errors="replace")
