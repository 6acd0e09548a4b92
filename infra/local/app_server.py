"""The backend app under a single real uvicorn on a free loopback port (schemathesis, the benchmark).

The stack runs the backend under gunicorn (services.backend_service); this runs one app factory
or app object directly, for callers that compare app variants side by side.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from infra.local.polling import WaitTimeout, http_ok, wait_until
from infra.local.processes import Process, free_port
from infra.local.services import BACKEND_DIR, HOST


class LiveServer:
    def __init__(
        self,
        env: dict[str, str],
        app: str = "app.main:create_app",
        factory: bool = True,
        log_path: Path | None = None,
        access_log: bool = False,
        extra_args: list[str] | None = None,
    ) -> None:
        self.env = dict(env)
        self.app = app
        self.factory = factory
        self.log_path = log_path or Path(tempfile.mkdtemp(prefix="ns-uvicorn-")) / "uvicorn.log"
        self.access_log = access_log
        self.extra_args = extra_args or []
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.process: Process | None = None

    def start(self, timeout: float = 30) -> LiveServer:
        cmd = [sys.executable, "-m", "uvicorn", self.app, "--host", HOST, "--port", str(self.port),
               "--log-level", "info" if self.access_log else "warning"]
        if self.factory:
            cmd.append("--factory")
        if not self.access_log:
            cmd.append("--no-access-log")
        cmd += self.extra_args
        self.process = Process.start("uvicorn", cmd, log=self.log_path, env=self.env, cwd=BACKEND_DIR)
        try:
            wait_until(lambda: http_ok(self.url + "/openapi.json"), timeout, 0.1,
                       what=f"uvicorn on {self.url} (log: {self.log_path})", give_up=self.process.exited)
        except WaitTimeout:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop(grace=10)

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
