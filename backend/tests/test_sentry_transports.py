"""The backend's Sentry transports send from the event loop, and lose nothing when they cannot
(app/core/sentry_transports.py, app/core/loop_sender.py).

Everything here talks to a real HTTP server standing in for Sentry (tests/sentry_stub.py) through
the real sentry-sdk client: the envelope is compressed, authenticated and rate-limited by the
SDK's own HttpTransport code; only the write differs. The SDK's worker thread
(`transport._worker`, a BackgroundWorker that starts on its first job) tells which path sent."""

from __future__ import annotations

import asyncio
import threading
import uuid

import httpx
import pytest
import sentry_sdk

from infra.testkit import wait_until_async

from app.core.loop_sender import LoopSender
from app.core.sentry import build_options
from app.core.sentry_transports import LoopHttpTransport, SpotlightTransport, drain_loop_senders
from tests.conftest import bearer, signup
from tests.obs_support import CaptureTransport

DEADLINE_S = 10.0


@pytest.fixture
def sentry_to(settings):
    """Initialise Sentry as in production with the given DSN or Spotlight URL; restored after."""
    def init(**update: object):  # noqa: ANN202
        sentry_sdk.init(**build_options(settings.model_copy(update=update)))
        return sentry_sdk.get_client().transport

    yield init
    sentry_sdk.get_client().close(timeout=0)
    sentry_sdk.init(**build_options(settings, transport=CaptureTransport()))


async def test_a_sampled_request_reaches_sentry_from_the_event_loop(settings, db, stub, sentry_to):
    from app.main import create_app

    transport = sentry_to(SENTRY_DSN=stub.dsn)
    assert isinstance(transport, LoopHttpTransport)
    app = create_app(settings.model_copy(update={"SENTRY_DSN": stub.dsn, "SENTRY_TRACES_SAMPLE_RATE": 1.0}))
    async with app.router.lifespan_context(app):
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 5000)),
                                   base_url="http://t")
        async with client as c:
            user = await signup(c, email="loop-transport@example.com", password="correct horse battery")
            assert (await c.get("/api/me", headers=bearer(user["token"]))).status_code == 200
        await drain_loop_senders(sentry_sdk.get_client(), 2.0)  # what the lifespan's shutdown does first
        assert not transport._worker.is_alive  # the SDK's thread never started: all of it went from the loop
    [me] = [r for r in stub.answered_with('"transaction":"/api/me"') if b'"type":"transaction"' in r.envelope]
    assert me.path == "/api/42/envelope/"
    assert "sentry_key=public" in me.headers["x-sentry-auth"]
    assert me.headers["content-encoding"] == "br"  # the SDK's compression, our quality 1


async def test_a_rate_limit_answered_on_the_loop_path_is_honoured(stub, sentry_to):
    transport = sentry_to(SENTRY_DSN=stub.dsn)
    stub.answer_headers = {"X-Sentry-Rate-Limits": "60:error:key"}
    first = sentry_sdk.capture_message(f"first {uuid.uuid4().hex}", level="error")
    await wait_until_async(lambda: stub.answered_with(first), timeout=DEADLINE_S, what="the first error answered")
    stub.answer_headers = {}
    second = sentry_sdk.capture_message(f"second {uuid.uuid4().hex}", level="error")
    await drain_loop_senders(sentry_sdk.get_client(), 2.0)
    assert transport._check_disabled("error")  # the SDK's own bookkeeping, fed by our response
    assert not stub.answered_with(second)  # dropped by the SDK for the rate limit, recorded as lost
    assert transport._discarded_events[("error", "ratelimit_backoff")] == 1


async def test_an_envelope_the_loop_could_not_deliver_goes_by_the_sdk_s_thread(stub, sentry_to):
    transport = sentry_to(SENTRY_DSN=stub.dsn)
    stub.behaviour = ["drop"]  # read the request, close the connection without an answer
    event_id = sentry_sdk.capture_message(f"dropped once {uuid.uuid4().hex}", level="error")
    await wait_until_async(lambda: stub.answered_with(event_id), timeout=DEADLINE_S,
                           what="the error answered, by the thread")
    assert transport._worker.is_alive
    assert len([r for r in stub.received if event_id.encode() in r.envelope]) == 2  # the loop's try, the thread's


async def test_an_event_captured_off_the_loop_goes_by_the_sdk_s_thread(stub, sentry_to):
    transport = sentry_to(SENTRY_DSN=stub.dsn)
    event_ids: list[str] = []
    worker = threading.Thread(target=lambda: event_ids.append(sentry_sdk.capture_message("from a thread")))
    worker.start()
    worker.join()
    await wait_until_async(lambda: stub.answered_with(event_ids[0]), timeout=DEADLINE_S,
                           what="the thread's error answered")
    assert transport._worker.is_alive


async def test_a_flush_hands_what_the_loop_holds_to_the_thread(stub, sentry_to):
    sentry_to(SENTRY_DSN=stub.dsn)
    stub.behaviour = ["hang"]  # the first request is never answered
    event_ids = [sentry_sdk.capture_message(f"in flight {uuid.uuid4().hex}", level="error")]
    await wait_until_async(lambda: stub.received, timeout=DEADLINE_S, what="the first request in flight")
    event_ids += [sentry_sdk.capture_message(f"queued {i} {uuid.uuid4().hex}", level="error") for i in range(3)]
    sentry_sdk.flush(timeout=5)  # as at exit: synchronous; in flight and queued go to the thread
    for event_id in event_ids:
        assert stub.answered_with(event_id), event_id


async def test_a_server_closing_each_connection_gets_every_envelope(stub):
    sender = LoopSender(stub.stream_url, max_connections=1)
    stub.behaviour = ["close", "close", "close"]
    answers: list[int] = []
    for i in range(3):
        assert sender.submit(f"envelope {i}".encode(), [], lambda response: answers.append(response.status),
                             lambda: answers.append(-1))
    await wait_until_async(lambda: len(answers) == 3, timeout=DEADLINE_S, what="three answers")
    assert answers == [200, 200, 200]
    assert stub.connections == 3


async def test_no_answer_fails_the_request_after_the_timeout_and_backs_off(stub):
    sender = LoopSender(stub.stream_url, timeout=0.3, backoff=60)
    stub.behaviour = ["hang"]
    failed: list[bool] = []
    assert sender.submit(b"envelope", [], lambda response: failed.append(False), lambda: failed.append(True))
    await wait_until_async(lambda: failed, timeout=DEADLINE_S, what="the request failed")
    assert failed == [True]
    assert not sender.accepting()  # the caller's thread path for the next minute
    assert not sender.submit(b"next", [], lambda response: None, lambda: None)


async def test_nothing_listening_fails_the_request_and_backs_off():
    sender = LoopSender("http://127.0.0.1:9/stream", backoff=60)  # the discard port: refused here
    failed: list[bool] = []
    assert sender.submit(b"envelope", [], lambda response: failed.append(False), lambda: failed.append(True))
    await wait_until_async(lambda: failed, timeout=DEADLINE_S, what="the request failed")
    assert failed == [True]
    assert not sender.accepting()


async def test_off_its_loop_the_sender_takes_nothing(stub):
    sender = LoopSender(stub.stream_url)
    answered: list[int] = []
    assert sender.submit(b"on this loop", [], lambda response: answered.append(response.status), lambda: None)
    taken: list[bool] = []

    async def on_another_loop() -> None:
        taken.append(sender.submit(b"another thread's loop", [], lambda response: None, lambda: None))

    def in_a_thread() -> None:
        taken.append(sender.submit(b"no loop", [], lambda response: None, lambda: None))
        asyncio.run(on_another_loop())

    worker = threading.Thread(target=in_a_thread)
    worker.start()
    worker.join()
    assert taken == [False, False]
    await wait_until_async(lambda: answered == [200], timeout=DEADLINE_S, what="this loop's request answered")


async def test_spotlight_gets_the_loop_s_envelopes_from_the_loop(stub, sentry_to):
    transport = sentry_to(SENTRY_DSN="", SENTRY_SPOTLIGHT_URL=stub.stream_url)
    assert isinstance(transport, SpotlightTransport)
    event_id = sentry_sdk.capture_message(f"to spotlight {uuid.uuid4().hex}", level="error")
    await drain_loop_senders(sentry_sdk.get_client(), 2.0)
    [received] = stub.answered_with(event_id)
    assert received.path == "/stream"
    assert received.headers["content-type"] == "application/x-sentry-envelope"
    assert not transport._worker.is_alive


def test_an_https_dsn_is_sent_with_the_sdk_s_tls_context_and_a_proxy_leaves_it_to_the_sdk(settings):
    import ssl

    options = build_options(settings.model_copy(update={"SENTRY_DSN": "https://public@sentry.example.com/7"}))
    client = sentry_sdk.Client(**options)
    proxied = sentry_sdk.Client(**{**options, "https_proxy": "http://127.0.0.1:3128"})
    try:
        sender = client.transport.loop_sender
        assert (sender.host, sender.port, sender.target) == ("sentry.example.com", 443, "/api/7/envelope/")
        assert sender.ssl.verify_mode is ssl.CERT_REQUIRED and sender.ssl.check_hostname
        assert proxied.transport.loop_sender is None  # the SDK's urllib3 speaks to proxies, the loop sender does not
    finally:
        client.close(timeout=0)
        proxied.close(timeout=0)
