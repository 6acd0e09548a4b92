"""Where the running stack is: `<STACK_DATA_DIR>/stack.env`, written by infra/local/stack.py `up`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx

from infra.local.stack import default_data_dir, read_env_file
from infra.testkit import fault_routes

parse_env_file = read_env_file  # the name the journeys use
REQUIRED = ("BACKEND_URL", "FRONTEND_URL", "PROMETHEUS_URL", "SPOTLIGHT_URL", "CAPTURE_URL", "BACKEND_LOG_FILE")


class StackNotUp(RuntimeError):
    """The suite cannot run: the message says what is missing and how to start the stack."""


@dataclass(frozen=True)
class Stack:
    backend_url: str
    frontend_url: str
    prometheus_url: str
    spotlight_url: str
    capture_url: str
    backend_log_file: Path
    data_dir: Path

    @property
    def log_dir(self) -> Path:
        return self.backend_log_file.parent


def load() -> Stack:
    """Read stack.env and check every service answers; raise StackNotUp with a clear message otherwise."""
    folder = default_data_dir()
    env_file = folder / "stack.env"
    hint = (f"start it first: e2e/run.sh (does everything), or `make build` then "
            f"`STACK_DATA_DIR={folder} python infra/local/stack.py up --profile fast --free-ports`")
    if not env_file.exists():
        raise StackNotUp(f"no {env_file}: the stack is not up ({hint})")
    values = read_env_file(env_file)
    missing = [k for k in REQUIRED if not values.get(k)]
    if missing:
        raise StackNotUp(f"{env_file} lacks {', '.join(missing)}")
    stack = Stack(
        backend_url=values["BACKEND_URL"].rstrip("/"),
        frontend_url=values["FRONTEND_URL"].rstrip("/"),
        prometheus_url=values["PROMETHEUS_URL"].rstrip("/"),
        spotlight_url=values["SPOTLIGHT_URL"].rstrip("/"),
        capture_url=values["CAPTURE_URL"].rstrip("/"),
        backend_log_file=Path(values["BACKEND_LOG_FILE"]),
        data_dir=folder,
    )
    probes = {
        "backend": f"{stack.backend_url}/ready",
        "frontend": f"{stack.frontend_url}/",
        "prometheus": f"{stack.prometheus_url}/-/ready",
        "spotlight": f"{stack.spotlight_url}/health",
        "capture server": f"{stack.capture_url}/health",
    }
    down = []
    for name, url in probes.items():
        try:
            status = httpx.get(url, timeout=5).status_code
            if status != 200:
                down.append(f"{name} ({url} -> {status})")
        except httpx.HTTPError as exc:
            down.append(f"{name} ({url}: {type(exc).__name__})")
    if down:
        raise StackNotUp(f"stack.env is in {folder}, but these do not answer: {'; '.join(down)} ({hint})")
    if not stack.backend_log_file.exists():
        raise StackNotUp(f"backend log {stack.backend_log_file} does not exist")
    if not fault_routes.kept():  # a product without /_faults: its fault journeys are skipped
        return stack
    faults = httpx.get(f"{stack.backend_url}/_faults", timeout=5)
    if faults.status_code != 200:
        raise StackNotUp(f"GET {stack.backend_url}/_faults -> {faults.status_code}: the backend must run with "
                         "FAULT_INJECTION_ENABLED=true (the stack runner sets it)")
    return stack
