"""What a trace says about the decision that sampled it (app/core/sentry.py, report_head_sampling).

The backend decides up front whether a request is traced and hands the SDK a forced 1.0, so left
to itself the SDK would report sample_rate=1.0 with an unrelated sample_rand: Sentry would
extrapolate a 10% sample as all of the traffic. The dynamic sampling context (the envelope's
`trace` header, the `baggage` sent to the payment provider) must carry the configured rate and
the draw that fell below it; a decision the web app took keeps the web app's context."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import httpx
import pytest
import sentry_sdk
from pydantic import SecretStr

from app.core import sentry as app_sentry
from tests.conftest import bearer, signup

RATE = 0.5
DRAW = 0.123456  # below RATE: the request is sampled
PROXY_SECRET = "head-sampling-proxy-" + uuid.uuid4().hex


@pytest.fixture
def draw(monkeypatch):
    monkeypatch.setattr(app_sentry, "random", SimpleNamespace(random=lambda: DRAW))


def _transactions(transport) -> list[tuple[dict, dict]]:
    return [(env.headers.get("trace") or {}, item.payload.json)
            for env in transport.envelopes for item in env.items if item.type == "transaction"]


def _baggage(header: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in header.split(",") if item.startswith("sentry-"))


@pytest.mark.usefixtures("draw")
async def test_a_trace_this_service_sampled_carries_its_rate_and_draw(settings, db, sentry_events, payment_provider):
    from app.main import create_app

    app = create_app(settings.model_copy(update={"SENTRY_TRACES_SAMPLE_RATE": RATE}))
    outside_trace = uuid.uuid4().hex
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            user = await signup(c, email="sampled@example.com", password="correct horse battery")
            c.cookies.clear()
            sentry_events.envelopes.clear()
            upgraded = await c.post("/api/billing/upgrade", json={"plan": "pro"}, headers=bearer(user["token"]))
            assert upgraded.status_code == 200, upgraded.text
            # an API client with a Sentry SDK of its own: its trace is continued, its sampling is not
            foreign = {"sentry-trace": f"{outside_trace}-{'b' * 16}-1",
                       "baggage": f"sentry-trace_id={outside_trace},sentry-public_key=theirs,sentry-sample_rate=1.0"}
            assert (await c.get("/api/me", headers={**bearer(user["token"]), **foreign})).status_code == 200
    sentry_sdk.flush()
    (upgrade_dsc, upgrade_tx), (foreign_dsc, foreign_tx) = _transactions(sentry_events)
    assert upgrade_tx["transaction"] == "/api/billing/upgrade"
    assert upgrade_dsc["sample_rate"] == str(RATE) and upgrade_dsc["sample_rand"] == f"{DRAW:.6f}"
    assert upgrade_dsc["sampled"] == "true" and upgrade_dsc["trace_id"] == upgrade_tx["contexts"]["trace"]["trace_id"]
    [charge] = payment_provider.charges
    downstream = _baggage(charge["baggage"])
    assert downstream["sentry-sample_rate"] == str(RATE) and downstream["sentry-sample_rand"] == f"{DRAW:.6f}"
    assert charge["sentry_trace"].startswith(upgrade_dsc["trace_id"]) and charge["sentry_trace"].endswith("-1")

    assert foreign_tx["contexts"]["trace"]["trace_id"] == outside_trace
    assert foreign_dsc["trace_id"] == outside_trace and foreign_dsc["public_key"] == "theirs"
    assert foreign_dsc["sample_rate"] == str(RATE) and foreign_dsc["sample_rand"] == f"{DRAW:.6f}"


@pytest.mark.usefixtures("draw")
async def test_a_trace_the_web_app_sampled_keeps_the_web_apps_context(settings, db, sentry_events):
    from app.main import create_app

    app = create_app(settings.model_copy(update={"SENTRY_TRACES_SAMPLE_RATE": RATE,
                                                 "TRUSTED_PROXY_SECRET": SecretStr(PROXY_SECRET)}))
    trace_id = uuid.uuid4().hex
    browser = {"sentry-trace": f"{trace_id}-{'c' * 16}-1", "X-Trusted-Proxy-Secret": PROXY_SECRET,
               "baggage": f"sentry-trace_id={trace_id},sentry-sample_rate=0.3,sentry-sample_rand=0.2,sentry-sampled=true"}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            assert (await c.get("/api/me", headers=browser)).status_code == 401
    sentry_sdk.flush()
    [(dsc, tx)] = _transactions(sentry_events)
    assert tx["contexts"]["trace"]["trace_id"] == trace_id
    assert (dsc["sample_rate"], dsc["sample_rand"], dsc["sampled"]) == ("0.3", "0.2", "true")
