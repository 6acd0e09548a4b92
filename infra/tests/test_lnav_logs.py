"""`make logs`: lnav reads the backend's own JSON lines, and SQL by request_id returns exactly one
request's lines.

The lines are produced in-process by the backend's real logging (backend/app/core/logging.py) and its
real request middleware (backend/app/core/request_middleware.py) around a tiny FastAPI app: access lines, an
unhandled exception with its traceback, a handler's warning, stdlib lines -- no server needed.
lnav runs headless (`-n`) with HOME pointed at a temporary folder.
"""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infra.lnav import logs

REPO = Path(__file__).resolve().parents[2]
FORMAT_FILE = logs.FORMAT_DIR / "formats" / "app" / "app_log.json"
FORMAT = json.loads(FORMAT_FILE.read_text())[logs.TABLE]
# Every line has these; lnav maps them to log_time, log_level and log_body.
BUILTIN_FIELDS = {FORMAT["timestamp-field"], FORMAT["level-field"], FORMAT["body-field"]}
REQUEST_IDS = ["req-items-1", "req-boom", "req-items-2"]



@pytest.fixture(scope="module", autouse=True)
def lnav_installed():
    assert shutil.which("lnav"), "lnav is not installed: `make install` (Debian package lnav)"


def _backend_lines() -> list[bytes]:
    """Lines written by the backend's logging for three requests and some process lines."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from app.core import correlation
    from app.core.logging import configure_logging, get_logger, set_log_stream
    from app.core.request_middleware import ObservabilityMiddleware

    handler_log = get_logger("app.test")
    app = FastAPI()

    @app.get("/api/items/{item_id}")
    async def item(item_id: int) -> dict:
        # A line logged while handling the request, as the slow-query listener writes it.
        handler_log.warning("slow_query", operation="SELECT", duration_ms=612.5,
                            statement="SELECT items WHERE id = ?", request_id=correlation.get_request_id())
        return {"id": item_id}

    @app.get("/api/boom")
    async def boom() -> dict:
        raise RuntimeError("boom")

    app.add_middleware(ObservabilityMiddleware)

    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    buffer = io.BytesIO()
    set_log_stream(buffer)
    try:
        configure_logging("INFO")
        logging.getLogger("uvicorn.error").info("Application startup complete.")
        with TestClient(app, raise_server_exceptions=False) as client:
            for request_id, path in zip(REQUEST_IDS, ["/api/items/1", "/api/boom", "/api/items/2"]):
                client.get(path, headers={"X-Request-ID": request_id})
            client.get("/api/unknown")  # the middleware gives it a fresh request ID
        logging.getLogger("uvicorn.error").info("Shutting down")
    finally:
        import structlog

        structlog.reset_defaults()
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    return [line for line in buffer.getvalue().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def log_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("logs") / "backend.log"
    path.write_bytes(b"\n".join(_backend_lines()) + b"\n")
    return path


@pytest.fixture(scope="module")
def lines(log_file) -> list[dict]:
    return [json.loads(line) for line in log_file.read_text().splitlines()]


@pytest.fixture()
def env(tmp_path) -> dict[str, str]:
    """lnav keeps its configuration and sessions under HOME: a fresh one per test."""
    home = tmp_path / "home"
    home.mkdir()
    return {**os.environ, "HOME": str(home)}


def _lnav_json(env, log_file, sql) -> list[dict]:
    cmd = logs.lnav_command(log_file, interactive=False, query=sql, output="json")
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout or "[]")


def test_the_sample_is_the_backends_real_output(lines):
    access = [l for l in lines if l.get("logger_name") == "app.access"]
    assert [l["request_id"] for l in access[:3]] == REQUEST_IDS
    assert [l["status_code"] for l in access] == [200, 500, 200, 404]
    assert any(l["event"] == "unhandled_exception" and l["request_id"] == "req-boom" for l in lines)
    assert any(l["event"] == "slow_query" for l in lines)
    assert all(BUILTIN_FIELDS <= set(l) for l in lines)


def test_lnav_loads_the_format_without_warnings(env, log_file, tmp_path):
    checked = subprocess.run(["lnav", "-W", "-n", "-q", "-I", str(logs.FORMAT_DIR), str(log_file)],
                             env=env, capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stderr
    assert "warning" not in checked.stdout + checked.stderr
    assert "error" not in checked.stdout + checked.stderr
    # The format also installs the usual way (`lnav -i`), e.g. for a production box.
    installed = subprocess.run(["lnav", "-i", str(FORMAT_FILE)], env=env, capture_output=True,
                               text=True, timeout=60)
    assert installed.returncode == 0, installed.stderr
    assert (Path(env["HOME"]) / ".lnav" / "formats" / "installed" / FORMAT_FILE.name).is_file()


def test_every_line_is_a_row_with_its_level_and_event(env, log_file, lines):
    rows = _lnav_json(env, log_file, f"SELECT log_level, log_body FROM {logs.TABLE} ORDER BY log_line")
    assert [(r["log_level"], r["log_body"]) for r in rows] == [(l["level"], l["event"]) for l in lines]


def test_every_field_the_backend_writes_is_a_column(lines):
    written = set().union(*(set(l) for l in lines)) - BUILTIN_FIELDS
    declared = set(FORMAT["value"])
    assert written <= declared, f"fields lnav would not index: {sorted(written - declared)}"
    assert {"request_id", "trace_id", "method", "route", "path", "status_code", "duration_ms"} <= declared


def _int(value):
    return None if value is None else int(value)


def test_sql_by_request_id_returns_exactly_that_requests_lines(env, log_file, lines):
    every_id = {l["request_id"] for l in lines if l.get("request_id")}
    assert set(REQUEST_IDS) < every_id  # plus the generated one of /api/unknown
    for request_id in sorted(every_id):
        cmd = logs.lnav_command(log_file, interactive=False, request_id=request_id, output="json")
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        rows = json.loads(proc.stdout)
        expected = [l for l in lines if l.get("request_id") == request_id]
        # (lnav's JSON output types a column by its first row: a status after a NULL is text)
        assert [(r["request_id"], r["log_body"], _int(r["status_code"]), r["trace_id"]) for r in rows] == [
            (l["request_id"], l["event"], l.get("status_code"), l.get("trace_id")) for l in expected]
    boom = [l["event"] for l in lines if l.get("request_id") == "req-boom"]
    assert boom == ["unhandled_exception", "request"]


def test_make_logs_without_a_terminal_prints_one_request(env, log_file, lines):
    proc = subprocess.run(["make", "--no-print-directory", "-s", "logs", "REQUEST_ID=req-items-1",
                           f"LOG_FILE={log_file}"], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    assert "req-items-1" in proc.stdout and "/api/items/{item_id}" in proc.stdout
    others = {l["request_id"] for l in lines if l.get("request_id")} - {"req-items-1"}
    assert not [other for other in others if other in proc.stdout]


def test_make_logs_refuses_a_request_id_that_is_not_one(env, log_file):
    proc = subprocess.run([sys.executable, "-m", "infra.lnav.logs"], cwd=REPO, capture_output=True,
                          text=True, timeout=60,
                          env={**env, "LOG_FILE": str(log_file), "REQUEST_ID": "x' OR '1'='1",
                               "PYTHONPATH": str(REPO)})
    assert proc.returncode == 2
    assert "REQUEST_ID must match" in proc.stderr
    assert proc.stdout == ""


def test_make_logs_says_when_there_is_no_log(env, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "infra.lnav.logs"], cwd=REPO, capture_output=True,
                          text=True, timeout=60,
                          env={**env, "LOG_FILE": str(tmp_path / "missing.log"), "PYTHONPATH": str(REPO)})
    assert proc.returncode == 1
    assert "make up" in proc.stderr


def test_every_field_is_documented_with_its_production_index():
    table = (REPO / "docs" / "logs.md").read_text()
    missing = [f for f in [*BUILTIN_FIELDS, *FORMAT["value"]] if f"`{f}`" not in table]
    assert not missing, f"docs/logs.md does not say how to index {missing}"
