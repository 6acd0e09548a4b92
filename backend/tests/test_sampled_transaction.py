"""The transaction of a sampled request (app/core/sampled_transaction.py), through the real app,
PostgreSQL and Redis, the real SDK client and an in-memory transport: what SentryAsgiMiddleware
gave it is still there, and what it did twice or counted wrong is not."""

from __future__ import annotations

import contextlib
import uuid

import httpx
import sentry_sdk

from tests.conftest import bearer, signup
from tests.test_observability import PASSWORD, explode


@contextlib.asynccontextmanager
async def _signed_in_client(settings, sentry_events, email: str):
    """The app with every request sampled, a signed-up user's bearer header, no envelope yet."""
    from app.main import create_app

    app = create_app(settings.model_copy(update={"SENTRY_TRACES_SAMPLE_RATE": 1.0}))
    app.add_api_route("/api/test/explode", explode, methods=["POST"])
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
