"""Sampled transactions finished by the worker's transaction agent (app/core/transaction_handoff.py,
app/core/transaction_agent.py): the real app, PostgreSQL and Redis, the real sentry-sdk client in
the worker and in a real agent process, and a Sentry stand-in (tests/sentry_stub.py) receiving
what the SDK's HttpTransport sends. Nothing is lost when the agent is busy or gone, and what
reaches Sentry is what the worker sends without an agent."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import time

import httpx
import pytest
import sentry_sdk

from infra.testkit import wait_until

from app.core import transaction_handoff
from app.core.sentry import build_options, init_sentry
from app.core.transaction_handoff import HandoffClient
from tests.conftest import bearer, signup
from tests.obs_support import CaptureTransport
from tests.sentry_stub import SentryStub  # the `stub` fixture: tests/conftest.py

DEADLINE_S = 15.0


@pytest.fixture
def sentry_to_stub(settings, stub):
    """Sentry initialised as init_sentry does in a worker, with the stub as its DSN; restored after."""
    def init(**update: object):  # noqa: ANN202
        configured = settings.model_copy(update={"SENTRY_DSN": stub.dsn, "SENTRY_TRACES_SAMPLE_RATE": 1.0, **update})
        init_sentry(configured)
        return configured

    yield init
    sentry_sdk.get_client().close(timeout=0)
    sentry_sdk.init(**build_options(settings, transport=CaptureTransport()))


def _transactions(stub: SentryStub) -> list[dict]:
    """The transaction items the stub received, parsed, in order."""
    out = []
    for received in list(stub.received):
        lines = received.envelope.split(b"\n")
        for header, payload in zip(lines[1::2], lines[2::2]):
            if json.loads(header).get("type") == "transaction":
                out.append(json.loads(payload))
    return out


def _request_ids(stub: SentryStub) -> set[str]:
    sentry_sdk.flush(timeout=1)  # the worker's own transport
    return {t.get("tags", {}).get("request_id") for t in _transactions(stub)}


@contextlib.asynccontextmanager
async def _app(settings):
    from app.main import create_app

    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            yield app, c


async def _read_me(c: httpx.AsyncClient, email: str, request_id: str) -> None:
    user = await signup(c, email=email, password="correct horse battery")
    c.cookies.clear()
    r = await c.get("/api/me", headers={**bearer(user["token"]), "X-Request-ID": request_id,
                                       "Referer": f"http://t/x?email={email}&token=secret-token"})
    assert r.status_code == 200


def _comparable(tx: dict) -> dict:
    """A transaction without what differs from one request to the next (IDs, times, durations)."""
    drop = {"event_id", "timestamp", "start_timestamp"}
    trace = {k: v for k, v in tx["contexts"]["trace"].items() if k not in ("trace_id", "span_id", "parent_span_id")}
    trace.pop("dynamic_sampling_context", None)
    spans = [{k: v for k, v in s.items() if k not in ("span_id", "parent_span_id", "trace_id", "timestamp",
                                                       "start_timestamp", "data")}
             | {"data_keys": sorted(s.get("data", {}))} for s in tx.get("spans", [])]
    tags = {k: v for k, v in tx.get("tags", {}).items() if k != "request_id"}
    request = {**tx["request"], "headers": {k: v for k, v in tx["request"]["headers"].items() if k != "x-request-id"}}
    return {**{k: v for k, v in tx.items() if k not in drop | {"contexts", "spans", "tags", "user", "request"}},
            "contexts": {**tx["contexts"], "trace": trace}, "spans": spans, "tags": tags, "request": request,
            "user_keys": sorted(tx.get("user", {}))}


async def test_a_sampled_transaction_reaches_sentry_from_the_agent_as_the_worker_would_send_it(
        settings, db, stub, sentry_to_stub):
    sent: dict[str, dict] = {}
    for mode, on in (("agent", True), ("worker", False)):
        configured = sentry_to_stub(SENTRY_TRANSACTION_AGENT=on)
        client = sentry_sdk.get_client()
        assert isinstance(client, HandoffClient)
        async with _app(configured) as (app, c):
            agent = client.agent
            assert (agent is not None) is on
            pid = agent.process.pid if agent else None
            await _read_me(c, f"handoff-{mode}@example.com", f"handoff-{mode}")
            if agent:
                assert agent.sent >= 2 and agent.kept == 0  # signup's and /api/me's transactions
                assert pid != os.getpid()
        if agent:
            assert agent.process is None  # the lifespan's end stopped it, after it had sent everything
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
        sentry_sdk.flush(timeout=5)
        [tx] = [t for t in _transactions(stub) if t.get("tags", {}).get("request_id") == f"handoff-{mode}"]
        sent[mode] = tx
    agent_tx, worker_tx = sent["agent"], sent["worker"]
    assert agent_tx["transaction"] == "/api/me" and agent_tx["request"]["method"] == "GET"
    raw = json.dumps(agent_tx)
    assert "handoff-agent@example.com" not in raw and "secret-token" not in raw  # scrubbed in the agent
    assert [s["op"] for s in agent_tx["spans"]] == [s["op"] for s in worker_tx["spans"]] != []
    assert _comparable(agent_tx) == _comparable(worker_tx)


async def test_a_busy_or_lost_agent_leaves_the_transaction_to_the_worker(settings, db, stub, sentry_to_stub,
                                                                       monkeypatch):
    configured = sentry_to_stub()
    client = sentry_sdk.get_client()
    monkeypatch.setattr(transaction_handoff, "RESTART_SECONDS", 0.5)
    async with _app(configured) as (app, c):
        agent = client.agent
        user = await signup(c, email="handoff-lost@example.com", password="correct horse battery")
        auth = bearer(user["token"])
        # busy: the agent stopped, its socket's buffer full
        os.kill(agent.process.pid, signal.SIGSTOP)
        try:
            agent.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
            kept = agent.kept
            for i in range(8):
                assert (await c.get("/api/me", headers={**auth, "X-Request-ID": f"busy-{i}"})).status_code == 200
            assert agent.kept > kept
        finally:
            os.kill(agent.process.pid, signal.SIGCONT)
        busy = {f"busy-{i}" for i in range(8)}
        wait_until(lambda: busy <= _request_ids(stub), timeout=DEADLINE_S,
                   what="the busy agent's and the worker's transactions at the stub")
        # gone: killed; the next transactions are the worker's, then a new agent takes them
        old = agent.process
        old.kill()
        old.wait()
        for i in range(3):
            assert (await c.get("/api/me", headers={**auth, "X-Request-ID": f"lost-{i}"})).status_code == 200
        assert agent.sock is None
        sent = agent.sent
        wait_until(lambda: time.monotonic() >= agent.retry_at, timeout=DEADLINE_S, what="the restart delay over")
        assert (await c.get("/api/me", headers={**auth, "X-Request-ID": "restarted"})).status_code == 200
        assert agent.process is not old and agent.sent == sent + 1
    ids = {f"lost-{i}" for i in range(3)} | {"restarted"}

    def all_arrived() -> bool:
        sentry_sdk.flush(timeout=1)
        return ids <= _request_ids(stub)

    wait_until(all_arrived, timeout=DEADLINE_S, what="every transaction at the stub")
