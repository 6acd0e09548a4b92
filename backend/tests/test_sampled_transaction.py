"""The transaction of a sampled request (app/core/sampled_transaction.py), through the real app,
PostgreSQL and Redis, the real SDK client and an in-memory transport: what SentryAsgiMiddleware
gave it is still there, and what it did twice or counted wrong is not."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from datetime import datetime

import httpx
import sentry_sdk

from tests.conftest import bearer, signup
from tests.test_observability import PASSWORD, explode


@contextlib.asynccontextmanager
async def _signed_in_client(settings, sentry_events, email: str, app_out: list | None = None):
    """The app with every request sampled, a signed-up user's bearer header, no envelope yet
    (the app appended to `app_out`, for a test that needs it)."""
    from app.main import create_app

    app = create_app(settings.model_copy(update={"SENTRY_TRACES_SAMPLE_RATE": 1.0}))
    app.add_api_route("/api/test/explode", explode, methods=["POST"])
    app.state.held = asyncio.Event()

    async def held() -> dict:
        await app.state.held.wait()
        return {}

    app.add_api_route("/api/test/held", held, methods=["GET"])
    if app_out is not None:
        app_out.append(app)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            user = await signup(c, email=email, password=PASSWORD)
            c.cookies.clear()
            sentry_sdk.flush()
            sentry_events.envelopes.clear()
            yield c, bearer(user["token"])
    sentry_sdk.flush()


async def test_a_sampled_request_is_one_route_named_transaction_with_its_status_and_request(settings, db, sentry_events):
    async with _signed_in_client(settings, sentry_events, "sampled@example.com") as (c, auth):
        project = (await c.post("/api/projects", json={"name": "P"}, headers=auth)).json()
        sentry_sdk.flush()
        sentry_events.envelopes.clear()
        assert (await c.get(f"/api/projects/{project['id']}", params={"view": "full"},
                            headers={**auth, "X-Request-ID": "sampled-read"})).status_code == 200
        assert (await c.get(f"/api/projects/{uuid.uuid4()}", headers=auth)).status_code == 404
        assert (await c.head(f"/api/projects/{project['id']}", headers=auth)).status_code in (200, 405)
    read, missing = sentry_events.items("transaction")  # HEAD makes none, as with SentryAsgiMiddleware
    for tx, status, http_status in ((read, "ok", 200), (missing, "not_found", 404)):
        trace = tx["contexts"]["trace"]
        assert tx["transaction"] == "/api/projects/{project_id}" and tx["transaction_info"] == {"source": "route"}
        assert (trace["op"], trace["origin"], trace["status"]) == ("http.server", "auto.http.app", status)
        assert trace["data"]["http.response.status_code"] == http_status
        assert tx["tags"]["asgi.type"] == "http"
        assert tx["request"]["method"] == "GET" and tx["request"]["url"].startswith("http://t/api/projects/")
    assert read["tags"]["request_id"] == "sampled-read" and read["request"]["query_string"] == "view=full"
    assert read["contexts"]["trace"]["trace_id"] != missing["contexts"]["trace"]["trace_id"]
    # No request-mode release-health sessions: SentryAsgiMiddleware recorded them for sampled
    # requests only, a sample that read as all the traffic.
    assert sentry_events.items("sessions") == [] and sentry_events.items("session") == []


async def test_an_error_in_a_sampled_request_is_one_event_in_the_transactions_trace(settings, db, sentry_events):
    async with _signed_in_client(settings, sentry_events, "sampled-error@example.com") as (c, auth):
        response = await c.post("/api/test/explode", json={"email": "x@example.com", "password": PASSWORD},
                                headers={**auth, "X-Request-ID": "sampled-boom", "User-Agent": "probe/1"})
        assert response.status_code == 500
    [tx], [error] = sentry_events.items("transaction"), sentry_events.items("event")
    assert tx["contexts"]["trace"]["status"] == "internal_error" and tx["transaction"] == "/api/test/explode"
    assert error["contexts"]["trace"]["trace_id"] == tx["contexts"]["trace"]["trace_id"]
    assert error["tags"]["request_id"] == "sampled-boom" and error["transaction"] == "/api/test/explode"
    assert error["exception"]["values"][-1]["mechanism"]["handled"] is False
    # the request data of the sampled request, scrubbed by before_send like the transaction's
    headers = {k.lower(): v for k, v in error["request"]["headers"].items()}
    assert headers["user-agent"] == "probe/1" and "authorization" not in headers
    assert error["request"]["method"] == "POST" and error["request"]["url"] == "http://t/api/test/explode"


async def _until(predicate, what: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.005)


async def test_a_transaction_waits_for_the_requests_in_flight_and_keeps_its_request_and_end(settings, db, sentry_events):
    """With another request in flight, a sampled request's transaction is finished once the worker
    is idle (app/core/idle_queue.py): not before, with the same request data and tags, and with
    the moment its own request ended as its end."""
    apps: list = []
    async with _signed_in_client(settings, sentry_events, "held-back@example.com", apps) as (c, auth):
        [app] = apps
        project = (await c.post("/api/projects", json={"name": "P"}, headers=auth)).json()
        sentry_sdk.flush()
        sentry_events.envelopes.clear()
        slow = asyncio.create_task(c.get("/api/test/held", headers={**auth, "X-Request-ID": "slow-one"}))
        await _until(lambda: app.state.idle.in_flight == 1, "the held request in flight")
        deferred_before = app.state.idle.deferred_total
        read = await c.get(f"/api/projects/{project['id']}", params={"view": "full"},
                           headers={**auth, "X-Request-ID": "held-back"})
        assert read.status_code == 200
        answered_at = datetime.now().astimezone()
        assert app.state.idle.deferred_total == deferred_before + 1 and len(app.state.idle) == 1
        assert sentry_events.items("transaction") == []  # the held request is still being served
        app.state.held.set()
        assert (await slow).status_code == 200
        await _until(lambda: len(sentry_events.items("transaction")) == 2, "both transactions")
        assert len(app.state.idle) == 0
    by_request = {tx["tags"]["request_id"]: tx for tx in sentry_events.items("transaction")}
    tx = by_request["held-back"]
    assert tx["transaction"] == "/api/projects/{project_id}" and tx["contexts"]["trace"]["status"] == "ok"
    assert tx["request"]["query_string"] == "view=full" and "authorization" not in {
        k.lower() for k in tx["request"]["headers"]}
    assert list(tx["user"]) == ["id"]  # the opaque ID only, as before_send_transaction left it
    assert datetime.fromisoformat(tx["timestamp"]) <= answered_at  # ended with its request, not when sent
    assert tx["contexts"]["trace"]["trace_id"] != by_request["slow-one"]["contexts"]["trace"]["trace_id"]
