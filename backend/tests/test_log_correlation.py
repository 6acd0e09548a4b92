"""Every line logged while a request is served carries its request_id and trace_id (app/core/logging.py
add_request_correlation), in-process against the real PostgreSQL, Redis and payment-provider
stand-in: the slow_query line, the payment provider's warning, the Redis warning, a stdlib and a
structlog line of any module; the sampled trace's ID when the request is traced; nothing outside a
request."""

from __future__ import annotations

import io
import json
import logging

import httpx
import pytest
from fastapi import Depends
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import get_session
from app.core.logging import get_logger
from tests.conftest import bearer, signup


def _lines(buf: io.BytesIO) -> list[dict]:
    return [json.loads(line) for line in buf.getvalue().splitlines() if line.startswith(b"{")]


async def slow_and_chatty(session: AsyncSession = Depends(get_session)) -> dict:
    """A handler that runs one slow statement and logs through stdlib and structlog."""
    await session.execute(text("SELECT pg_sleep(0.12)"))
    logging.getLogger("tests.generic").warning("generic stdlib line")
    get_logger("tests.generic").warning("generic_structlog_line", detail="x")
    return {}


def _app(settings, tmp_path, **update):
    from app.main import create_app

    app = create_app(settings.model_copy(update={
        "FAULT_INJECTION_ENABLED": True, "FAULT_STATE_FILE": str(tmp_path / "faults.json"), **update}))
    app.add_api_route("/api/test/slow", slow_and_chatty, methods=["GET"])
    return app


def _of_request(lines: list[dict], request_id: str) -> tuple[dict, list[dict]]:
    [access] = [ln for ln in lines if ln.get("event") == "request" and ln["request_id"] == request_id]
    return access, [ln for ln in lines if ln.get("request_id") == request_id and ln is not access]


@pytest.mark.needs_fault_routes
async def test_every_line_of_a_request_carries_its_request_and_trace_id(settings, db, logs, payment_provider, tmp_path):
    app = _app(settings, tmp_path, SENTRY_TRACES_SAMPLE_RATE=0.0)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            user = await signup(c, email="lines@example.com", password="correct horse battery")
            c.cookies.clear()
            auth = bearer(user["token"])
            trace = "4" * 32
            assert (await c.get("/api/test/slow", headers={"X-Request-ID": "corr-slow",
                                                           "sentry-trace": f"{trace}-{'5' * 16}-0"})).status_code == 200
            payment_provider.fail = True
            assert (await c.post("/api/billing/upgrade", json={"plan": "pro"},
                                 headers={**auth, "X-Request-ID": "corr-pay"})).status_code == 502
            assert (await c.put("/_faults", json={"redis_down": True})).status_code == 200
            assert (await c.get("/api/me", headers={**auth, "X-Request-ID": "corr-redis"})).status_code == 200
            logging.getLogger("tests.generic").warning("outside any request")
    lines = _lines(logs)

    access, slow = _of_request(lines, "corr-slow")
    assert access["trace_id"] == trace
    events = {ln["event"] for ln in slow}
    assert {"slow_query", "generic stdlib line", "generic_structlog_line"} <= events, slow
    assert all(ln["trace_id"] == trace for ln in slow)

    access, pay = _of_request(lines, "corr-pay")
    warnings = [ln for ln in pay if ln["event"].startswith("payment provider failed")]
    assert warnings and warnings[0]["level"] == "warning" and warnings[0]["trace_id"] == access["trace_id"]

    access, redis = _of_request(lines, "corr-redis")
    warnings = [ln for ln in redis if ln["event"].startswith("redis get failed")]
    assert warnings and warnings[0]["trace_id"] == access["trace_id"]

    [outside] = [ln for ln in lines if ln.get("event") == "outside any request"]
    assert "request_id" not in outside and "trace_id" not in outside


async def test_lines_of_a_sampled_request_carry_the_transactions_trace_id(settings, db, logs, sentry_events, tmp_path):
    import sentry_sdk

    app = _app(settings, tmp_path, SENTRY_TRACES_SAMPLE_RATE=1.0)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            assert (await c.get("/api/test/slow", headers={"X-Request-ID": "corr-sampled"})).status_code == 200
    sentry_sdk.flush()
    [transaction] = sentry_events.items("transaction")
    trace = transaction["contexts"]["trace"]["trace_id"]
    access, lines = _of_request(_lines(logs), "corr-sampled")
    assert access["trace_id"] == trace
    assert {ln["event"] for ln in lines} >= {"slow_query", "generic stdlib line", "generic_structlog_line"}
    assert all(ln["trace_id"] == trace for ln in lines)
