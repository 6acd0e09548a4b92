"""No password, session token or e-mail address leaves into Sentry, the logs or Mixpanel.

Every journey of the session registers the secrets it typed or received (canaries: unique e-mails,
passwords -- right and wrong --, session tokens). This module adds the riskiest journey of all: a
sign-up, then a login that fails with a 500 while the e-mail and password are in flight (so the
backend and the browser both report an error about a request that carried them), then a good
login, then an upgrade whose payment provider times out (a 504, reported to Sentry from inside the
backend's request handler, about a request that carries the session cookie). After waiting for those signals to arrive, each test searches one sink for every canary
(also URL-encoded and JSON-escaped). Each search has a positive control, so it cannot pass by
looking at the wrong data.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import expect

from infra.product import PRODUCT
from loadtests.catalogue import fault_of
from support import backend_log, faults, mixpanel
from support.browser import BrowserJourney
from support.canaries import CanaryRegistry, new_email, new_password
from support.frontend_sentry import SAMPLE_EVERYTHING_SCRIPT, frontend_envelopes, is_frontend, sampled_trace_header
from support.polling import eventually
from support.spotlight import SpotlightCollector
from support.stack import Stack, parse_env_file

LOGIN_FAILS = fault_of("e2e_login_fails")  # the fault catalogue (backend/app/faults/catalogue.json)
LOGIN = LOGIN_FAILS.knobs["error_routes"][0]


@dataclass
class PiiRun:
    journey: BrowserJourney
    user_id: str
    failed_login_request_id: str
    failed_upgrade_request_id: str


@pytest.fixture(scope="module")
def exposed(journey: BrowserJourney, stack: Stack, canaries: CanaryRegistry, spotlight: SpotlightCollector) -> PiiRun:
    j = "PII journey"
    email = canaries.add("email", new_email("e2e-pii"), j)
    password = canaries.add("password", new_password(), j)
    page = journey.page
    try:
        page.goto("/signup")
        page.get_by_label("Name", exact=True).fill("Pat Private")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password (8 to 128 characters)").fill(password)
        with page.expect_response(lambda r: r.url.endswith("/api/auth/signup")) as signup:
            page.get_by_role("button", name="Create account").click()
        user_id = signup.value.json()["user"]["id"]
        canaries.add("token", signup.value.json()["token"], j)
        page.wait_for_url(re.compile(r"/dashboard$"))
        page.get_by_role("button", name="Log out").click()
        page.wait_for_url(re.compile(r"/login$"))

        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        with faults.injected(stack.backend_url, **LOGIN_FAILS.values()):
            page.get_by_role("button", name="Log in").click()
            expect(page.get_by_test_id("request-id")).to_be_visible()
            failed_id = page.get_by_test_id("request-id").inner_text().strip()
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(re.compile(r"/dashboard$"))
        for cookie in journey.context.cookies():
            if cookie["name"] == PRODUCT.session_cookie:
                canaries.add("token", cookie["value"], j)

        page.goto("/pricing")
        # The provider times out (the fault makes the backend's httpx call time out after
        # PAYMENT_TIMEOUT_SECONDS): the backend reports it to Sentry from inside the handler.
        with faults.injected(stack.backend_url, **fault_of("billing_timeout").values()):
            page.get_by_role("button", name="Upgrade to Pro").click()
            expect(page.get_by_text("Our payment provider is not responding")).to_be_visible()
            failed_upgrade_id = page.get_by_test_id("request-id").inner_text().strip()
        journey.screenshot()
    except Exception:
        journey.screenshot()
        raise
    run = PiiRun(journey=journey, user_id=user_id, failed_login_request_id=failed_id,
                 failed_upgrade_request_id=failed_upgrade_id)

    # Let the signals of the failure arrive before searching them.
    def arrived() -> bool:
        for rid in (failed_id, failed_upgrade_id):
            events = spotlight.events_tagged(rid)
            assert any(e.is_browser for e in events) and any(e.is_backend for e in events), \
                f"Sentry events for request {rid} so far: {[e.summary() for e in events]}"
            backend_log.access_line(stack.backend_log_file, rid)
        assert "signed_up" in mixpanel.names(mixpanel.events_of(stack.capture_url, user_id)), "signed_up not delivered"
        return True

    eventually(arrived, timeout=30, what="the failed login and upgrade in Spotlight and the log, signed_up in Mixpanel")
    return run


def _report(hits: list[str], sink: str) -> str:
    return f"{len(hits)} secret(s) found in {sink}:\n" + "\n".join(hits[:20])


@pytest.mark.needs_fault_routes
def test_no_password_token_or_email_in_sentry_events(exposed: PiiRun, canaries: CanaryRegistry,
                                                     spotlight: SpotlightCollector) -> None:
    envelopes = spotlight.snapshot()
    haystacks = {f"Spotlight envelope #{i} ({', '.join(str(ih.get('type')) for ih, _ in env.items)})": env.raw
                 for i, env in enumerate(envelopes)}
    joined = "\n".join(haystacks.values())
    for rid in (exposed.failed_login_request_id, exposed.failed_upgrade_request_id):
        assert rid in joined, f"positive control: the failed request {rid} is in what we searched"
    assert canaries.canaries, "no canaries registered"
    hits = canaries.hits(haystacks)
    assert not hits, _report(hits, "Sentry events (Spotlight)")


@pytest.mark.needs_fault_routes
def test_no_password_token_or_email_in_log_lines(exposed: PiiRun, canaries: CanaryRegistry, stack: Stack) -> None:
    logs = sorted(stack.log_dir.glob("*.log"))
    haystacks = {str(path): path.read_text(errors="replace") for path in logs}
    assert exposed.failed_login_request_id in haystacks[str(stack.backend_log_file)], "positive control"
    assert exposed.user_id in haystacks[str(stack.backend_log_file)], "positive control: the user's ID is logged"
    hits = canaries.hits(haystacks)
    assert not hits, _report(hits, f"log files ({', '.join(p.name for p in logs)})")


@pytest.mark.needs_fault_routes
def test_no_password_token_or_email_in_mixpanel_properties(exposed: PiiRun, canaries: CanaryRegistry,
                                                           stack: Stack) -> None:
    raw = httpx.get(f"{stack.capture_url}/api/captured", params={"kind": "mixpanel"}, timeout=5).text
    assert exposed.user_id in raw, "positive control: this user's events are in what we searched"
    hits = canaries.hits({"Mixpanel stand-in (/api/captured?kind=mixpanel)": raw})
    assert not hits, _report(hits, "Mixpanel events")


# --- query-string, Referer, custom-header and baggage canaries ---------------------------------
# Sent through the frontend with sampling forced. The frontend must drop or scrub them before its
# own sinks (its Sentry envelopes, Next.js server and browser, its log and its metrics), and the
# backend, which gets the proxied request with the browser's sampling decision, before every sink of
# its own (its Sentry transaction, its log; Mixpanel). They have their own registry, searched below.

@dataclass
class FrontendCanaryRun:
    registry: CanaryRegistry
    trace_id: str


@pytest.fixture(scope="module")
def frontend_canaries(browser, stack: Stack, spotlight: SpotlightCollector) -> FrontendCanaryRun:  # noqa: ANN001
    j = "frontend request-parts journey"
    registry = CanaryRegistry()
    email = registry.add("query e-mail", new_email("e2e-query"), j)
    password = registry.add("query password", new_password(), j)
    token = registry.add("referer token", f"Canary-Referer-{secrets.token_hex(6)}", j)
    header = registry.add("custom header", f"Canary-Header-{secrets.token_hex(6)}", j)
    bag = registry.add("baggage item", f"Canary-Baggage-{secrets.token_hex(6)}", j)
    query = f"email={quote(email)}&password={password}&token={token}"
    trace_id, sentry_trace = sampled_trace_header()
    sent = {
        "sentry-trace": sentry_trace,
        "baggage": f"sentry-trace_id={trace_id},sentry-sampled=true,canary={bag}",
        "Referer": f"{stack.frontend_url}/login?{query}",
        "X-Canary-Header": header,
    }
    for path in (f"/api/billing/plan?{query}", f"/pricing?{query}"):
        httpx.get(f"{stack.frontend_url}{path}", headers=sent, timeout=10)

    context = browser.new_context(base_url=stack.frontend_url, extra_http_headers={"X-Canary-Header": header})
    context.add_init_script(SAMPLE_EVERYTHING_SCRIPT)
    try:
        page = context.new_page()
        page.goto(f"/login?{query}")
        page.get_by_role("button", name="Log in").wait_for()
        page.goto("/pricing")
        page.get_by_role("region", name="Pro plan").wait_for()
    finally:
        context.close()

    def arrived() -> bool:
        assert frontend_envelopes(spotlight, trace_id), f"no Next.js server envelope of trace {trace_id} yet"
        assert [e for e in frontend_envelopes(spotlight, "/login") if "pageload" in e.raw], "no browser page load yet"
        return True

    eventually(arrived, timeout=30, what="the frontend's spans of the canary requests in Spotlight")
    return FrontendCanaryRun(registry=registry, trace_id=trace_id)


def test_no_query_referer_header_or_baggage_canary_in_frontend_signals(frontend_canaries: FrontendCanaryRun,
                                                                        stack: Stack, spotlight: SpotlightCollector) -> None:
    envelopes = frontend_envelopes(spotlight)
    haystacks = {f"frontend Spotlight envelope #{i}": env.raw for i, env in enumerate(envelopes)}
    assert any(frontend_canaries.trace_id in raw for raw in haystacks.values()), "positive control: the canary trace"
    frontend_log = stack.log_dir / "frontend.log"
    if frontend_log.exists():
        haystacks[str(frontend_log)] = frontend_log.read_text(errors="replace")
    metrics = httpx.get(f"{stack.frontend_url}/api/metrics", timeout=5).text
    assert "nextjs_requests_total" in metrics, "positive control: the frontend's metrics"
    haystacks["frontend /api/metrics"] = metrics
    backend_metrics = parse_env_file(stack.data_dir / "stack.env").get("BACKEND_METRICS_URL")
    if backend_metrics:
        haystacks["backend /metrics"] = httpx.get(backend_metrics, timeout=5).text
    hits = frontend_canaries.registry.hits(haystacks)
    assert not hits, _report(hits, "the frontend's signals")


def test_no_query_referer_header_or_baggage_canary_in_backend_signals(frontend_canaries: FrontendCanaryRun,
                                                                       stack: Stack, spotlight: SpotlightCollector) -> None:
    trace_id = frontend_canaries.trace_id

    def backend_transaction() -> list:
        found = [e for e in spotlight.snapshot() if not is_frontend(e) and trace_id in e.raw]
        assert found, f"positive control: no backend envelope of the canary trace {trace_id} yet"
        return found

    eventually(backend_transaction, timeout=30, what="the backend's transaction of the proxied canary request")
    haystacks = {f"backend Spotlight envelope #{i}": env.raw
                 for i, env in enumerate(e for e in spotlight.snapshot() if not is_frontend(e))}
    haystacks[str(stack.backend_log_file)] = stack.backend_log_file.read_text(errors="replace")
    haystacks["Mixpanel stand-in"] = httpx.get(f"{stack.capture_url}/api/captured", params={"kind": "mixpanel"},
                                               timeout=5).text
    hits = frontend_canaries.registry.hits(haystacks)
    assert not hits, _report(hits, "the backend's signals")
