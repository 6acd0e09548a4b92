"""Backend signals in-process, against the real PostgreSQL and Redis: request IDs, the JSON access
log, route-template metrics, Sentry capture and scrubbing, health/readiness, RUM, UI events,
business counters, slow queries and the fault-injection guard."""

from __future__ import annotations

import io
import json
import uuid

import httpx
import pytest
import sentry_sdk
from fastapi import Request
from prometheus_client import REGISTRY
from pydantic import BaseModel

from app.users.deps import SESSION_COOKIE, CurrentPrincipal
from tests.conftest import bearer, signup

PASSWORD = "s3cret-Passw0rd-xyz"
EMAIL = "leaky.user@example.com"


class ExplodeBody(BaseModel):
    email: str
    password: str


async def explode(body: ExplodeBody, request: Request, principal: CurrentPrincipal) -> None:  # noqa: ARG001
    """A handler that fails with the user's e-mail in the message and their password in its body."""
    raise RuntimeError(f"failed for {body.email}")


def log_lines(buf: io.BytesIO) -> list[dict]:
    return [json.loads(line) for line in buf.getvalue().splitlines() if line.startswith(b"{")]


def sample(name: str, labels: dict | None = None) -> float:
    return REGISTRY.get_sample_value(name, labels or {}) or 0.0


async def test_request_id_accepted_only_when_safe_and_returned_on_every_response(client):
    ok = await client.get("/health", headers={"X-Request-ID": "abc-123_DEF.9"})
    assert ok.headers["x-request-id"] == "abc-123_DEF.9"
    for bad in ("x" * 65, "bad id", "inj\\nected", "<script>", "é"):
        response = await client.get("/health", headers={"X-Request-ID": bad.encode("utf-8")})
        rid = response.headers["x-request-id"]
        assert rid != bad and len(rid) == 32 and rid.isalnum()
    assert "x-request-id" in (await client.get("/nope")).headers  # 404
    assert "x-request-id" in (await client.get("/api/me")).headers  # 401
    assert "x-request-id" in (await client.post("/api/auth/signup", json={})).headers  # 422


async def test_unhandled_exception_reaches_sentry_scrubbed_with_request_id(make_client, settings, db, sentry_events, logs):
    from app.main import create_app

    app = create_app(settings)
    app.add_api_route("/api/test/explode", explode, methods=["POST"])

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            user = await signup(c, email="owner@example.com", password=PASSWORD)
            response = await c.post(
                "/api/test/explode",
                json={"email": EMAIL, "password": PASSWORD},
                headers={**bearer(user["token"]), "X-Request-ID": "req-explode-1", "Cookie": f"{SESSION_COOKIE}={user['token']}"},
            )
    sentry_sdk.flush()
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "req-explode-1"
    assert response.json() == {"detail": "Internal server error", "request_id": "req-explode-1"}

    events = sentry_events.events()
    assert len(events) == 1
    event = events[0]
    assert event["tags"]["request_id"] == "req-explode-1"
    assert event["user"] == {"id": user["user"]["id"]}
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    raw = sentry_events.raw()
    for secret in (PASSWORD, EMAIL, user["token"], "owner@example.com"):
        assert secret not in raw
    log_text = logs.getvalue().decode()
    for secret in (PASSWORD, EMAIL, user["token"], "owner@example.com"):
        assert secret not in log_text
    outbox = await db.fetch("SELECT properties::text AS p FROM analytics_outbox")
    assert outbox and all(PASSWORD not in r["p"] and "@" not in r["p"] for r in outbox)
    assert sample("http_unhandled_exceptions_total", {"exception_type": "RuntimeError", "route": "/api/test/explode"}) >= 1
    errors = [line for line in log_lines(logs) if line.get("event") == "unhandled_exception"]
    assert len(errors) == 1 and errors[0]["request_id"] == "req-explode-1"


async def test_exactly_one_access_line_per_request(client, logs):
    user = await signup(client, email="log@example.com", password=PASSWORD)
    logs.truncate(0), logs.seek(0)
    await client.get("/api/me", headers={**bearer(user["token"]), "X-Request-ID": "one-line"})
    lines = [line for line in log_lines(logs) if line.get("logger_name") == "app.access"]
    assert len(lines) == 1
    line = lines[0]
    assert {k: line[k] for k in ("request_id", "method", "route", "path", "status_code")} == {
        "request_id": "one-line", "method": "GET", "route": "/api/me", "path": "/api/me", "status_code": 200}
    assert line["user_id"] == user["user"]["id"] and line["duration_ms"] >= 0 and "trace_id" in line
    assert "log@example.com" not in logs.getvalue().decode()


async def test_thousand_project_ids_make_one_series_per_route(client):
    user = await signup(client, email="burst@example.com", password=PASSWORD)
    headers = bearer(user["token"])
    for _ in range(1000):
        await client.get(f"/api/projects/{uuid.uuid4()}", headers=headers)
    routes = set()
    for metric in REGISTRY.collect():
        if metric.name in ("http_requests", "http_request_duration_seconds"):
            routes |= {s.labels["route"] for s in metric.samples if "route" in s.labels}
    assert "/api/projects/{project_id}" in routes
    assert not [r for r in routes if r.count("-") >= 4], "a raw UUID leaked into a route label"
    assert len(routes) < 40
    assert sample("http_requests_total", {"method": "GET", "route": "/api/projects/{project_id}", "status_code": "404"}) >= 1000


async def test_metrics_not_served_by_the_app(client):
    response = await client.get("/metrics")
    assert response.status_code == 404


async def test_business_counters_only_after_commit(client):
    before = sample("signups_total")
    await signup(client, email="count@example.com", password=PASSWORD)
    dup = await client.post("/api/auth/signup", json={"email": "count@example.com", "password": PASSWORD, "name": "X"})
    assert dup.status_code == 409
    assert sample("signups_total") == before + 1


async def test_api_usage_by_route_and_plan(client):
    user = await signup(client, email="usage@example.com", password=PASSWORD)
    before = sample("api_usage_total", {"route": "/api/me", "plan": "free"})
    await client.get("/api/me", headers=bearer(user["token"]))
    assert sample("api_usage_total", {"route": "/api/me", "plan": "free"}) == before + 1


async def test_health_ok_and_ready(client):
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "healthy", "checks": {"database": "ok", "redis": "ok"}}
    assert (await client.get("/ready")).json() == {"ready": True}


async def test_ready_false_before_startup_and_after_shutdown(settings, db):
    from app.main import create_app

    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        before = await c.get("/ready")
        assert before.status_code == 503 and before.json() == {"ready": False, "reason": "starting"}
        async with app.router.lifespan_context(app):
            assert (await c.get("/ready")).status_code == 200
        after = await c.get("/ready")
        assert after.status_code == 503 and after.json() == {"ready": False, "reason": "draining"}


async def test_rum_vitals_recorded_validated_and_bounded(client):
    before = sample("web_vitals_lcp_seconds_count", {"page": "/dashboard"})
    ok = await client.post("/api/rum/vitals", json={"name": "LCP", "value": 1234.5, "page": "/dashboard", "rating": "good"})
    assert ok.status_code == 204
    assert sample("web_vitals_lcp_seconds_count", {"page": "/dashboard"}) == before + 1
    assert await client.post("/api/rum/vitals", json={"name": "CLS", "value": 0.05, "page": "/evil/page"}) is not None
    assert sample("web_vitals_cls_count", {"page": "other"}) >= 1
    assert sample("web_vitals_cls_count", {"page": "/evil/page"}) == 0
    await client.post("/api/rum/vitals", json={"name": "TTFB", "value": 80, "page": "/projects/123"})
    assert sample("web_vitals_ttfb_seconds_count", {"page": "/projects/[id]"}) >= 1
    for bad in ({"name": "FID", "value": 1, "page": "/"}, {"name": "LCP", "value": 1e9, "page": "/"},
                {"name": "CLS", "value": 50, "page": "/"}, {"name": "INP", "value": -1, "page": "/"},
                {"name": "LCP", "value": 1, "page": "x" * 500}):
        assert (await client.post("/api/rum/vitals", json=bad)).status_code == 422


async def test_ui_events_go_through_the_outbox(client, db):
    assert (await client.post("/api/events", json={"event": "page_viewed", "page": "/pricing"})).status_code == 401
    user = await signup(client, email="ui@example.com", password=PASSWORD)
    headers = bearer(user["token"])
    assert (await client.post("/api/events", json={"event": "hacked", "page": "/"}, headers=headers)).status_code == 422
    response = await client.post("/api/events", json={"event": "upgrade_clicked", "page": "/pricing"},
                                 headers={**headers, "X-Request-ID": "ui-evt-1"})
    assert response.status_code == 202
    row = await db.fetchrow("SELECT distinct_id, properties FROM analytics_outbox WHERE event = 'upgrade_clicked'")
    props = json.loads(row["properties"])
    assert row["distinct_id"] == user["user"]["id"] and props["page"] == "/pricing" and props["request_id"] == "ui-evt-1"


async def test_slow_query_counted_and_logged_without_parameters(client, logs):
    from sqlalchemy import text

    app = client._transport.app  # noqa: SLF001
    before = sample("db_slow_queries_total", {"operation": "select"})
    async with app.state.engine.connect() as conn:
        await conn.execute(text("SELECT pg_sleep(0.12), :secret AS s"), {"secret": "param-value-xyz"})
    assert sample("db_slow_queries_total", {"operation": "select"}) == before + 1
    slow = [line for line in log_lines(logs) if line.get("event") == "slow_query"]
    assert slow and "pg_sleep" in slow[-1]["statement"] and "param-value-xyz" not in logs.getvalue().decode()


async def test_fault_injection_absent_when_disabled(client):
    for method in ("GET", "PUT", "DELETE"):
        assert (await client.request(method, "/_faults", json={})).status_code in (404, 405)
    app = client._transport.app  # noqa: SLF001
    assert not any(m.cls.__name__ == "FaultMiddleware" for m in app.user_middleware)


@pytest.mark.needs_fault_routes
async def test_fault_injection_when_enabled(make_client, settings, tmp_path):
    enabled = settings.model_copy(update={"FAULT_INJECTION_ENABLED": True, "FAULT_STATE_FILE": str(tmp_path / "f.json")})
    c = await make_client.client(enabled)
    remote = await make_client.client(enabled, client_addr=("10.1.2.3", 4000))
    assert (await remote.put("/_faults", json={"error_ratio": 1.0})).status_code == 404
    assert (await c.put("/_faults", json={"error_ratio": 2})).status_code == 422
    put = await c.put("/_faults", json={"error_ratio": 1.0, "error_routes": ["/api/me"]})
    assert put.status_code == 200 and put.json()["error_ratio"] == 1.0
    before = sample("http_unhandled_exceptions_total", {"exception_type": "InjectedFault", "route": "/api/me"})
    response = await c.get("/api/me")
    assert response.status_code == 500 and "request_id" in response.json()
    assert sample("http_unhandled_exceptions_total", {"exception_type": "InjectedFault", "route": "/api/me"}) == before + 1
    assert (await c.get("/api/projects")).status_code == 401  # other routes unaffected
    await c.put("/_faults", json={"redis_down": True})
    health = await c.get("/health")
    assert health.status_code == 200 and health.json()["checks"] == {"database": "ok", "redis": "error"}
    assert health.json()["status"] == "degraded" and (await c.get("/ready")).status_code == 200
    assert (await c.delete("/_faults")).json()["redis_down"] is False
    assert (await c.get("/health")).json()["status"] == "healthy"


async def _explode_app(settings):
    from app.main import create_app

    app = create_app(settings)
    app.add_api_route("/api/test/explode", explode, methods=["POST"])
    return app


async def test_unsampled_errors_carry_their_own_trace_and_no_other_requests_breadcrumbs(settings, db, sentry_events, logs):
    """An error of a request that is not traced still belongs to that request's trace (the browser's
    sentry-trace, sampled or not) and carries nothing recorded while serving another request."""
    # rate 0: from a direct client the "-0" of sentry-trace is not what keeps these untraced
    app = await _explode_app(settings.model_copy(update={"SENTRY_TRACES_SAMPLE_RATE": 0.0}))
    traces = ["1" * 32, "3" * 32]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            user = await signup(c, email="trace@example.com", password=PASSWORD)
            for n, trace in enumerate(traces):
                sentry_sdk.add_breadcrumb(message=f"outside-{n}")  # must not leak into any request's event
                response = await c.post("/api/test/explode", json={"email": EMAIL, "password": PASSWORD},
                                        headers={**bearer(user["token"]), "X-Request-ID": f"req-trace-{n}",
                                                 "sentry-trace": f"{trace}-{'2' * 16}-0"})
                assert response.status_code == 500
    sentry_sdk.flush()
    events = sentry_events.events()
    assert [e["contexts"]["trace"]["trace_id"] for e in events] == traces
    assert [e["tags"]["request_id"] for e in events] == ["req-trace-0", "req-trace-1"]
    assert "outside-" not in sentry_events.raw()
    access = {line["request_id"]: line for line in log_lines(logs) if line.get("event") == "request"}
    assert [access[f"req-trace-{n}"]["trace_id"] for n in range(2)] == traces


async def test_payment_provider_refusal_is_reported_to_sentry(settings, db, sentry_events, payment_provider):
    from app.main import create_app

    payment_provider.fail = True
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            user = await signup(c, email="payer@example.com", password=PASSWORD)
            response = await c.post("/api/billing/upgrade", json={"plan": "pro"},
                                    headers={**bearer(user["token"]), "X-Request-ID": "req-pay-502"})
    sentry_sdk.flush()
    assert response.status_code == 502
    events = sentry_events.events()
    assert len(events) == 1
    assert events[0]["exception"]["values"][-1]["type"] == "PaymentProviderError"
    assert events[0]["tags"]["upstream"] == "payment_provider"
    assert events[0]["tags"]["request_id"] == "req-pay-502"


def test_with_a_dsn_envelopes_are_compressed_with_brotli_quality_1(settings):
    """The SDK's HttpTransport (ours sends from the event loop, app/core/sentry_transports.py)
    compresses with brotli quality 1, not the SDK's default quality 4 (or its gzip -9 without brotli,
    which pyproject.toml therefore declares)."""
    import brotli  # noqa: F401 - a dependency of the backend

    from app.core.sentry import build_options

    options = build_options(settings.model_copy(update={"SENTRY_DSN": "http://public@127.0.0.1:9/1"}))
    client = sentry_sdk.Client(**options)
    try:
        assert type(client.transport).__name__ == "LoopHttpTransport"
        assert (client.transport._compression_algo, client.transport._compression_level) == ("br", 1)
    finally:
        client.close(timeout=0)
