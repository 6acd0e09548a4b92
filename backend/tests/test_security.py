"""Security properties of the API, one test (or a few) per finding of the outside review
(SECURITY.md): the client address behind the trusted proxy, Sentry events of sampled requests,
CSRF on cookie-authenticated changes, password and name rules, the OpenAPI schema agreeing with
behaviour, and the production defaults."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
import sentry_sdk
from fastapi import Request
from pydantic import BaseModel, SecretStr

from app.core import product
from app.users.deps import CurrentPrincipal
from tests.conftest import bearer, signup, table_counts
from tests.obs_support import http, start_gunicorn

PROXY_SECRET = "test-proxy-secret-" + uuid.uuid4().hex
PROXY = {"X-Trusted-Proxy-Secret": PROXY_SECRET}


def behind_proxy(settings, **update):
    return settings.model_copy(update={"TRUSTED_PROXY_SECRET": SecretStr(PROXY_SECRET), **update})


async def _login_statuses(client, n, headers_of=lambda i: {}):
    statuses = []
    for i in range(n):
        response = await client.post("/api/auth/login", json={"email": f"x{i}@example.com", "password": "whatever1"},
                                     headers=headers_of(i))
        statuses.append(response.status_code)
    return statuses


# --- trusted proxy: the client address is the one our proxy saw ------------------------------------

@pytest.mark.usefixtures("one_rate_limit_window")
async def test_forwarded_for_counts_only_from_the_trusted_proxy(make_client, settings, db):
    s = behind_proxy(settings, RATE_LIMIT_AUTH_PER_MINUTE=3)
    # Directly to the API (no proof of being the proxy): a rotating X-Forwarded-For, or a list whose
    # last entry rotates, is ignored -- every attempt counts against the peer's address.
    direct = await make_client.client(s, client_addr=("127.0.0.1", 4000))
    assert await _login_statuses(direct, 4, lambda i: {"X-Forwarded-For": f"203.0.113.{i}"}) == [401, 401, 401, 429]
    listed = await make_client.client(s, client_addr=("10.7.7.7", 4000))
    assert await _login_statuses(listed, 4, lambda i: {"X-Forwarded-For": f"1.1.1.1, 203.0.113.{i}"}) == [401] * 3 + [429]
    # A wrong secret from the proxy's address, or the right one from another address: ignored too.
    wrong = await make_client.client(s, client_addr=("127.0.0.1", 4001))
    assert await _login_statuses(wrong, 1, lambda i: {"X-Forwarded-For": "198.51.100.9",
                                                     "X-Trusted-Proxy-Secret": "guess"}) == [429]
    stolen = await make_client.client(s, client_addr=("10.8.8.8", 4000))
    assert await _login_statuses(stolen, 4, lambda i: {"X-Forwarded-For": f"198.51.100.{i}", **PROXY}) == [401] * 3 + [429]

    # Through the proxy (loopback + secret): each browser address has its own bucket.
    proxy = await make_client.client(s, client_addr=("127.0.0.1", 4002))
    assert await _login_statuses(proxy, 4, lambda i: {"X-Forwarded-For": "198.51.100.1", **PROXY}) == [401] * 3 + [429]
    assert await _login_statuses(proxy, 1, lambda i: {"X-Forwarded-For": "198.51.100.2", **PROXY}) == [401]
    # one hop: the right-most entry is the address the proxy saw, whatever the client prepended
    assert await _login_statuses(proxy, 1, lambda i: {"X-Forwarded-For": "6.6.6.6, 198.51.100.1", **PROXY}) == [429]
    # IPv6 clients are counted per /64
    assert await _login_statuses(proxy, 4, lambda i: {"X-Forwarded-For": f"2001:db8:1:2::{i + 1}", **PROXY}) \
        == [401] * 3 + [429]


@pytest.mark.needs_fault_routes
async def test_loopback_only_faults_see_the_forwarded_address(make_client, settings, tmp_path):
    s = behind_proxy(settings, FAULT_INJECTION_ENABLED=True, FAULT_STATE_FILE=str(tmp_path / "f.json"))
    proxy = await make_client.client(s, client_addr=("127.0.0.1", 4003))
    assert (await proxy.get("/_faults", headers={"X-Forwarded-For": "203.0.113.5", **PROXY})).status_code == 404
    assert (await proxy.get("/_faults", headers={"X-Forwarded-For": "203.0.113.5"})).status_code == 200


def test_gunicorn_ignores_forwarded_for_from_loopback(database_url, redis_prefix, tmp_path):
    """As deployed: the server itself must not rewrite the client address (uvicorn's
    forwarded_allow_ips trusted every X-Forwarded-For from 127.0.0.1)."""
    env = {"DATABASE_URL": database_url, "REDIS_URL": "redis://127.0.0.1:6379/11",
           "REDIS_KEY_PREFIX": redis_prefix + "gu:", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "mp"),
           "ANALYTICS_DELIVERY_ENABLED": "false", "RATE_LIMIT_AUTH_PER_MINUTE": "3", "LOG_LEVEL": "WARNING",
           "TRUSTED_PROXY_SECRET": PROXY_SECRET}
    proc, api, _ = start_gunicorn(env, workers=1)
    try:
        login = {"email": "nobody@example.com", "password": "whatever1"}
        rotating = [http("POST", api + "/api/auth/login", login, {"X-Forwarded-For": f"203.0.113.{i}"})[0]
                    for i in range(4)]
        assert rotating == [401, 401, 401, 429]
        proxied = [http("POST", api + "/api/auth/login", login, {"X-Forwarded-For": "198.51.100.7", **PROXY})[0]
                   for _ in range(2)]
        assert proxied == [401, 401]
    finally:
        proc.stop()


# --- Sentry: sampled requests carry no secrets, outsiders cannot force sampling ---------------------

CANARY = "Canary-" + uuid.uuid4().hex[:12]
CANARY_EMAIL = f"canary.{uuid.uuid4().hex[:8]}@example.com"


class Body(BaseModel):
    note: str


async def explode(body: Body, request: Request, principal: CurrentPrincipal) -> None:  # noqa: ARG001
    raise RuntimeError("boom")


async def test_sampled_request_events_carry_no_secret_and_outsiders_cannot_force_sampling(settings, db, sentry_events):
    from app.main import create_app

    app = create_app(behind_proxy(settings, SENTRY_TRACES_SAMPLE_RATE=0.0))
    app.add_api_route("/api/test/explode", explode, methods=["POST"])
    trace_id = uuid.uuid4().hex
    leaky = {
        "X-Auth-Token": CANARY + "-auth", "X-CSRF-Token": CANARY + "-csrf", "X-Custom-Canary": CANARY + "-custom",
        "baggage": f"sentry-trace_id={trace_id},sentry-sampled=true,canary={CANARY}-baggage",
        "Referer": f"http://127.0.0.1:3000/login?email={CANARY_EMAIL.replace('@', '%40')}"
                   f"&password={CANARY}-referer&token={CANARY}-token#{CANARY}-fragment",
        "sentry-trace": f"{trace_id}-{'a' * 16}-1",
    }
    query = {"password": CANARY + "-query", "email": CANARY_EMAIL, "token": CANARY + "-qt", "page": "2"}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            user = await signup(c, email="sentry-owner@example.com", password="correct horse battery")
            c.cookies.clear()
            auth = {**bearer(user["token"]), "X-Request-ID": "sec-sentry-1"}
            # From outside (no proxy proof) a sampled sentry-trace does not force a transaction.
            outside = await c.post("/api/test/explode", params=query, json={"note": "n"}, headers={**auth, **leaky})
            assert outside.status_code == 500
            sentry_sdk.flush()
            assert sentry_events.items("transaction") == []
            assert len(sentry_events.items("event")) == 1
            # Through our proxy the browser's decision is honoured: error event + transaction.
            proxied = await c.post("/api/test/explode", params=query, json={"note": "n"},
                                   headers={**auth, **leaky, **PROXY, "X-Forwarded-For": "198.51.100.3"})
            assert proxied.status_code == 500
    sentry_sdk.flush()
    transactions, errors = sentry_events.items("transaction"), sentry_events.items("event")
    assert len(transactions) == 1 and len(errors) == 2
    for event in (transactions[0], errors[1]):
        request = event["request"]
        assert request["query_string"] == "password=[Filtered]&email=[Filtered]&token=[Filtered]&page=2"
        headers = {k.lower(): v for k, v in request["headers"].items()}
        assert {"x-auth-token", "x-csrf-token", "x-custom-canary", "authorization", "x-forwarded-for",
                "x-trusted-proxy-secret"}.isdisjoint(headers)
        assert headers["baggage"] == f"sentry-trace_id={trace_id},sentry-sampled=true"
        assert headers["referer"] == "http://127.0.0.1:3000/login?email=[Filtered]&password=[Filtered]&token=[Filtered]"
        assert event["contexts"]["trace"]["trace_id"] == trace_id
    raw = sentry_events.raw()
    for secret in (CANARY, CANARY_EMAIL, CANARY_EMAIL.replace("@", "%40"), PROXY_SECRET, user["token"]):
        assert secret not in raw


# --- CSRF: cookie-authenticated changes only from our own origin ------------------------------------

async def test_cross_origin_cookie_requests_are_refused_and_change_nothing(client, db):
    user = await signup(client, email="csrf@example.com", password="correct horse battery")
    token = user["token"]  # the client now also holds the session cookie
    project = (await client.post("/api/projects", json={"name": "P"}, headers=bearer(token))).json()
    task = (await client.post(f"/api/projects/{project['id']}/tasks", json={"title": "t"}, headers=bearer(token))).json()
    before = await table_counts(db)
    foreign = [
        {"Origin": "http://127.0.0.1:8080", "Sec-Fetch-Site": "same-site"},  # another port, same site
        {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
    ]
    for headers in foreign:
        for method, url in (("POST", f"/api/tasks/{task['id']}/complete"), ("POST", "/api/auth/logout"),
                            ("PATCH", f"/api/projects/{project['id']}"), ("DELETE", f"/api/tasks/{task['id']}"),
                            ("POST", "/api/auth/login")):
            body = {"name": "hacked"} if method == "PATCH" else None
            response = await client.request(method, url, json=body, headers=headers)
            assert response.status_code == 403, (method, url, headers, response.text)
            assert response.json() == {"detail": "Cross-origin request refused: this origin may not change data here"}
    assert await table_counts(db) == before
    assert (await client.get("/api/me")).status_code == 200  # still logged in
    assert (await client.get(f"/api/projects/{project['id']}")).json()["name"] == "P"

    # reads are not affected; a bearer token is never sent by a browser on its own: exempt
    assert (await client.get("/api/me", headers=foreign[0])).status_code == 200
    done = await client.post(f"/api/tasks/{task['id']}/complete", headers={**foreign[1], **bearer(token)})
    assert done.status_code == 200 and done.json()["done"] is True
    # our own pages (same-origin, or an allowed Origin) and non-browser clients (neither header) pass
    assert (await client.patch(f"/api/projects/{project['id']}", json={"name": "Q"},
                               headers={"Sec-Fetch-Site": "same-origin", "Origin": "http://127.0.0.1:3000"})).status_code == 200
    assert (await client.patch(f"/api/projects/{project['id']}", json={"name": "R"},
                               headers={"Origin": "http://localhost:3000"})).status_code == 200
    assert (await client.post("/api/auth/logout")).status_code == 204


# --- passwords and names (NIST SP 800-63B) ----------------------------------------------------------

async def test_common_blank_and_email_passwords_and_blank_names_are_refused(client, db):
    refused = [
        ({"password": "password"}, "password"), ({"password": "Password1 "}, "password"),
        ({"password": "12345678"}, "password"), ({"password": " " * 8}, "password"),
        ({"password": "\t\u3000" * 4}, "password"), ({"password": "Nist.User"}, "password"),
        ({"name": "   "}, "name"), ({"name": "\u2003\n"}, "name"),
    ]
    for change, field in refused:
        payload = {"email": "nist.user@example.com", "password": "correct horse battery", "name": "N", **change}
        response = await client.post("/api/auth/signup", json=payload)
        assert response.status_code == 422, (change, response.text)
        assert any(err["loc"][:2] == ["body", field] for err in response.json()["detail"]), response.text
        assert "correct horse" not in response.text and all("input" not in e for e in response.json()["detail"])
    assert sum((await table_counts(db)).values()) == 0
    # no composition rules: a long lower-case passphrase with spaces is fine; names are trimmed
    body = await signup(client, email="nist.user@example.com", password="correct horse battery", name="  Ada L.  ")
    assert body["user"]["name"] == "Ada L."
    assert await db.fetchval("SELECT name FROM users") == "Ada L."


# --- the OpenAPI schema and the behaviour agree -----------------------------------------------------

async def test_schema_and_behaviour_agree_on_the_reviewed_cases(client, db):
    schema = (await client.get("/openapi.json")).json()
    token = (await signup(client, email="schema@example.com", password="correct horse battery"))["token"]
    client.cookies.clear()
    auth = bearer(token)
    project = (await client.post("/api/projects", json={"name": "P"}, headers=auth)).json()
    task = (await client.post(f"/api/projects/{project['id']}/tasks", json={"title": "t"}, headers=auth)).json()

    # invalid UTF-8 is a JSON error like any other: 422, documented
    bad = await client.post("/api/projects", content=b'{"name": "\xff\xfe"}', headers={**auth, "Content-Type": "application/json"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["type"] == "json_invalid"
    # 405 names every method of the path
    options = await client.options(f"/api/projects/{project['id']}", headers=auth)
    assert options.status_code == 405
    assert {m.strip() for m in options.headers["allow"].split(",")} == {"GET", "PATCH", "DELETE"}
    # PATCH name: the schema says string (no null), and null is refused
    patch_name = schema["components"]["schemas"]["ProjectPatch"]["properties"]["name"]
    assert patch_name["type"] == "string" and "anyOf" not in patch_name
    assert (await client.patch(f"/api/projects/{project['id']}", json={"name": None}, headers=auth)).status_code == 422
    # strict booleans and numbers
    assert schema["components"]["schemas"]["TaskPatch"]["properties"]["done"] == {"title": "Done", "type": "boolean"}
    for done in (0, 1, "yes", "true"):
        assert (await client.patch(f"/api/tasks/{task['id']}", json={"done": done}, headers=auth)).status_code == 422
    assert (await client.get(f"/api/projects/{project['id']}/tasks", headers=auth)).json()["items"][0]["done"] is False
    for vital in ({"name": "LCP", "value": False, "page": "/"}, {"name": "CLS", "value": True, "page": "/"},
                  {"name": "LCP", "value": "12", "page": "/"}):
        assert (await client.post("/api/rum/vitals", json=vital)).status_code == 422
    # vitals bounds are in the schema, per metric
    components = schema["components"]["schemas"]
    assert components["TimingVital"]["properties"]["value"]["maximum"] == 60000
    assert components["LayoutShiftVital"]["properties"]["value"]["maximum"] == 10
    assert (await client.post("/api/rum/vitals", json={"name": "CLS", "value": 10, "page": "/"})).status_code == 204
    # 202 without a body, and the schema declares none
    assert "content" not in schema["paths"]["/api/events"]["post"]["responses"]["202"]
    accepted = await client.post("/api/events", json={"event": "page_viewed", "page": "/"}, headers=auth)
    assert accepted.status_code == 202 and accepted.content == b""


# --- decided and documented (SECURITY.md) -----------------------------------------------------------

async def test_production_serves_no_api_docs(make_client, settings, db):
    prod = await make_client.client(settings.model_copy(update={"ENVIRONMENT": "production"}))
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert (await prod.get(path)).status_code == 404
    assert (await prod.get("/health")).status_code == 200
    dev = await make_client.client(settings)
    assert (await dev.get("/openapi.json")).status_code == 200
    assert json.loads((await dev.get("/openapi.json")).content)["info"]["title"] == f"{product.NAME} API"
