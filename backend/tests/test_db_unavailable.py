"""A failing PostgreSQL degrades the service (503 + Retry-After), and the alerting still sees errors.

Real PostgreSQL: the pool exhausted on the session database with a one-connection pool, and a
throwaway cluster of our own stopped and started again. Each refused request must answer
`{"detail": "Service temporarily unavailable", "request_id": ...}` with Retry-After and no
exception text, count as a 5xx in http_requests_total, move
http_unhandled_exceptions_total{exception_type=<the underlying type>, route}, reach Sentry as an
error tagged with the request ID, and leave an `unhandled_exception` log line.
"""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
import sentry_sdk
from fastapi import Request
from sqlalchemy import text

from tests.conftest import bearer, create_migrated_database, signup
from tests.obs_support import ThrowawayPostgres
from tests.test_observability import log_lines, sample

pytestmark = pytest.mark.filterwarnings("ignore")
PASSWORD = "Db-Outage-Passw0rd"
DETAIL = "Service temporarily unavailable"
# What a leaked exception would show: driver/pool messages, addresses, SQL.
LEAKS = ("QueuePool", "timed out", "Connect call failed", "connection is closed", "127.0.0.1", "SELECT",
         "Error", "sqlalche.me")




def unhandled(route: str) -> dict[str, float]:
    """http_unhandled_exceptions_total for one route, by exception type."""
    from prometheus_client import REGISTRY

    out: dict[str, float] = {}
    for metric in REGISTRY.collect():
        if metric.name == "http_unhandled_exceptions":
            for s in metric.samples:
                if s.name.endswith("_total") and s.labels.get("route") == route:
                    out[s.labels["exception_type"]] = s.value
    return out


async def broken_sql(request: Request) -> None:
    async with request.app.state.engine.connect() as conn:
        await conn.execute(text("SELECT * FROM no_such_table"))


def assert_degraded(response, request_id: str) -> None:  # noqa: ANN001
    assert response.status_code == 503, response.text
    assert response.json() == {"detail": DETAIL, "request_id": request_id}
    assert int(response.headers["retry-after"]) > 0
    assert response.headers["x-request-id"] == request_id
    for leak in LEAKS:
        assert leak not in response.text


async def test_pool_exhausted_is_503_counted_captured_and_logged(make_client, settings, sentry_events, logs):
    tiny = settings.model_copy(update={"DB_POOL_SIZE": 1, "DB_MAX_OVERFLOW": 0, "DB_POOL_TIMEOUT": 0.2})
    client = await make_client.client(tiny)
    user = await signup(client, email="pool@example.com", password=PASSWORD)
    headers = bearer(user["token"])
    assert (await client.get("/api/projects", headers=headers)).status_code == 200  # session now cached
    route = "/api/projects"
    before_503 = sample("http_requests_total", {"method": "GET", "route": route, "status_code": "503"})
    before_exc = sample("http_unhandled_exceptions_total", {"exception_type": "TimeoutError", "route": route})

    engine = client._transport.app.state.engine  # noqa: SLF001
    held = await engine.connect()  # the pool's only connection
    try:
        response = await client.get("/api/projects", headers={**headers, "X-Request-ID": "req-pool-1"})
    finally:
        await held.close()

    assert_degraded(response, "req-pool-1")
    assert sample("http_requests_total", {"method": "GET", "route": route, "status_code": "503"}) == before_503 + 1
    assert sample("http_unhandled_exceptions_total", {"exception_type": "TimeoutError", "route": route}) == before_exc + 1
    sentry_sdk.flush()
    events = [e for e in sentry_events.events() if e.get("tags", {}).get("request_id") == "req-pool-1"]
    assert len(events) == 1 and events[0]["level"] == "error"
    assert events[0]["exception"]["values"][-1]["type"] == "TimeoutError" and events[0]["transaction"] == route
    errors = [line for line in log_lines(logs) if line.get("event") == "unhandled_exception"]
    assert [(e["exception_type"], e["status_code"], e["request_id"]) for e in errors] == [("TimeoutError", 503, "req-pool-1")]
    access = [line for line in log_lines(logs) if line.get("event") == "request" and line["request_id"] == "req-pool-1"]
    assert access and access[0]["status_code"] == 503

    assert (await client.get("/api/projects", headers=headers)).status_code == 200  # back once released


async def test_other_database_errors_stay_500(make_client, settings):
    """Only unavailability is a 503: a failing statement on a healthy database is still a 500."""
    from app.main import create_app

    app = create_app(settings)
    app.add_api_route("/api/test/broken-sql", broken_sql, methods=["GET"])
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            response = await c.get("/api/test/broken-sql")
    assert response.status_code == 500 and response.json()["detail"] == "Internal server error"
    assert "retry-after" not in response.headers
    assert sample("http_unhandled_exceptions_total",
                  {"exception_type": "ProgrammingError", "route": "/api/test/broken-sql"}) >= 1


async def test_postgres_down_is_503_for_reads_writes_and_login_then_recovers(make_client, settings, sentry_events, db):
    pg = ThrowawayPostgres().start()
    try:
        url = await create_migrated_database(pg.url)
        client = await make_client.client(settings.model_copy(update={"DATABASE_URL": url, "DB_POOL_TIMEOUT": 2}))
        user = await signup(client, email="down@example.com", password=PASSWORD)
        headers = bearer(user["token"])
        assert (await client.get("/api/projects", headers=headers)).status_code == 200  # pooled connection, cached session
        assert (await client.get("/ready")).json() == {"ready": True}
        routes = ("/api/projects", "/api/auth/login")
        before = {r: sum(unhandled(r).values()) for r in routes}

        await asyncio.to_thread(pg.ctl, "stop", "-m", "fast")
        calls = [
            ("req-down-1", client.get("/api/projects", headers={**headers, "X-Request-ID": "req-down-1"})),  # stale pooled conn
            ("req-down-2", client.get("/api/projects", headers={**headers, "X-Request-ID": "req-down-2"})),  # refused
            ("req-down-3", client.post("/api/projects", json={"name": "during outage"},
                                       headers={**headers, "X-Request-ID": "req-down-3"})),
            ("req-down-4", client.post("/api/auth/login", json={"email": "down@example.com", "password": PASSWORD},
                                       headers={"X-Request-ID": "req-down-4"})),
        ]
        for request_id, call in calls:
            assert_degraded(await call, request_id)
        health = await client.get("/health")
        assert health.status_code == 503 and health.json()["checks"]["database"] != "ok"
        ready = await client.get("/ready")  # this instance cannot serve: out of rotation
        assert ready.status_code == 503 and ready.json() == {"ready": False, "reason": "database"}

        after = {r: unhandled(r) for r in routes}
        assert sum(after["/api/projects"].values()) == before["/api/projects"] + 3
        assert sum(after["/api/auth/login"].values()) == before["/api/auth/login"] + 1
        assert set(after["/api/projects"]) & {"InterfaceError", "ConnectionRefusedError", "OperationalError"}
        sentry_sdk.flush()
        tagged = {e.get("tags", {}).get("request_id") for e in sentry_events.events() if e.get("level") == "error"}
        assert {"req-down-1", "req-down-2", "req-down-3", "req-down-4"} <= tagged

        await asyncio.to_thread(pg.ctl, "start")
        deadline = time.monotonic() + 15
        while (status := (await client.get("/api/projects", headers=headers)).status_code) != 200:
            assert status == 503 and time.monotonic() < deadline, status
            await asyncio.sleep(0.2)
        created = await client.post("/api/projects", json={"name": "after outage"}, headers=headers)
        assert created.status_code == 201
        page = (await client.get("/api/projects", headers=headers)).json()
        assert [p["name"] for p in page["items"]] == ["after outage"]  # the refused write left nothing behind
        assert (await client.get("/ready")).json() == {"ready": True}  # back in rotation
    finally:
        await make_client.close()
        make_client._stack.clear()  # noqa: SLF001
        pg.stop()
