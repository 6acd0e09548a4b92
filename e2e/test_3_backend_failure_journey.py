"""Journey 3: a user hits a backend failure (fault injected on POST /api/projects), sees the request ID, retries.

The shared identity is the request ID the UI shows ("quote this when you contact support"): the
same ID must be the browser's X-Request-ID, the backend's access and error log lines, the tag on
the browser's and the backend's Sentry events (which must be in one trace), and nothing may be
recorded as a business event for the failed write.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import expect

from infra.product import PRODUCT
from loadtests.catalogue import fault_of
from support import api, backend_log, faults, mixpanel, prometheus
from support.browser import BrowserJourney
from support.canaries import CanaryRegistry
from support.polling import eventually
from support.spotlight import SentryEvent, SpotlightCollector
from support.stack import Stack

pytestmark = pytest.mark.needs_fault_routes  # every journey here injects a fault
FAULT = fault_of("e2e_request_fails")  # the fault catalogue (backend/app/faults/catalogue.json)
FAULT_ROUTE = FAULT.knobs["error_routes"][0]
COUNTERS = {
    "500s": prometheus.live(f'http_requests_total{{method="POST",route="{FAULT_ROUTE}",status_code="500"}}'),
    "unhandled": prometheus.live(f'http_unhandled_exceptions_total{{exception_type="InjectedFault",route="{FAULT_ROUTE}"}}'),
}


@dataclass
class FailureRun:
    journey: BrowserJourney
    user: api.ApiUser
    ui_request_id: str = ""
    ui_message: str = ""
    project_name: str = ""
    before: dict[str, float] = field(default_factory=dict)


@pytest.fixture(scope="module")
def failure(journey: BrowserJourney, stack: Stack, canaries: CanaryRegistry) -> FailureRun:
    j = "backend failure journey"
    user = api.signup_canary_user(stack.backend_url, canaries, j, "e2e-fail", "Bea Failure")
    run = FailureRun(journey=journey, user=user, project_name=f"Doomed {secrets.token_hex(3)}")
    run.before = prometheus.values(stack.prometheus_url, COUNTERS)
    # An existing session: the httpOnly cookie the backend would set, and the UI's signed-in hint.
    journey.context.add_cookies([{"name": PRODUCT.session_cookie, "value": user.token, "url": stack.frontend_url,
                                  "httpOnly": True, "sameSite": "Lax"}])
    journey.context.add_init_script(f"window.localStorage.setItem('{PRODUCT.slug}_signed_in', '1')")  # lib/sessionHint.ts
    page = journey.page
    try:
        page.goto("/dashboard")
        expect(page.get_by_text("No projects yet")).to_be_visible()
        page.get_by_label("Name", exact=True).fill(run.project_name)
        with faults.injected(stack.backend_url, **FAULT.values()):
            page.get_by_role("button", name="Create project").click()
            alert = page.get_by_role("alert").filter(has_text="Request ID")
            expect(alert).to_be_visible()
            run.ui_request_id = page.get_by_test_id("request-id").inner_text().strip()
            run.ui_message = alert.inner_text()
            journey.screenshot()
        # The fault is gone: the same click now works, and the notice goes away.
        page.get_by_role("button", name="Create project").click()
        expect(page.get_by_test_id("project-list")).to_contain_text(run.project_name)
        expect(page.get_by_role("alert").filter(has_text="Request ID")).to_have_count(0)
    except Exception:
        journey.screenshot()
        raise
    return run


def failed_call(run: FailureRun):
    return run.journey.one_call("POST", FAULT_ROUTE, status=500)


def test_backend_failure_ui_shows_request_id_and_recovers(failure: FailureRun) -> None:
    assert "Something went wrong on our side." in failure.ui_message, failure.ui_message
    assert "quote this when you contact support" in failure.ui_message, failure.ui_message
    call = failed_call(failure)
    assert failure.ui_request_id, "the UI showed no request ID"
    assert failure.ui_request_id == call.sent_request_id == call.echoed_request_id, (failure.ui_request_id, call)
    assert failure.journey.one_call("POST", FAULT_ROUTE, status=201)


def test_request_id_propagation_ui_to_backend_log(failure: FailureRun, stack: Stack) -> None:
    """The ID on the screen finds the backend's access line (route, method, status) and its error line."""
    rid = failure.ui_request_id
    line = eventually(lambda: backend_log.access_line(stack.backend_log_file, rid), timeout=10,
                      what=f"the access line of request {rid}")
    assert (line["method"], line["route"], line["status_code"]) == ("POST", FAULT_ROUTE, 500), line
    # (no user_id: the injected fault fires in middleware, before authentication runs)
    errors = [ln for ln in backend_log.lines_for(stack.backend_log_file, rid) if ln.get("event") == "unhandled_exception"]
    assert len(errors) == 1, f"expected one unhandled_exception line for {rid}: {errors}"
    assert errors[0]["exception_type"] == "InjectedFault" and errors[0]["route"] == FAULT_ROUTE, errors[0]


def _browser_and_backend_events(spotlight: SpotlightCollector, rid: str) -> tuple[SentryEvent, SentryEvent]:
    events = spotlight.events_tagged(rid)
    browser = [e for e in events if e.is_browser]
    backend = [e for e in events if e.is_backend]
    assert browser and backend, (f"Spotlight events tagged request_id={rid}: {[e.summary() for e in events]} "
                                 f"(want one from the browser and one from the backend)")
    assert len(browser) == 1 and len(backend) == 1, [e.summary() for e in events]
    return browser[0], backend[0]


def test_request_id_propagation_ui_to_sentry_events(failure: FailureRun, spotlight: SpotlightCollector) -> None:
    """Spotlight got the browser's error and the backend's error, both tagged with the ID the UI showed."""
    rid = failure.ui_request_id
    browser, backend = eventually(lambda: _browser_and_backend_events(spotlight, rid), timeout=20,
                                  what=f"Sentry events tagged request_id={rid}")
    assert browser.tags.get("api.route") == FAULT_ROUTE and browser.tags.get("api.status") == "500", browser.tags
    assert browser.tags.get("api.method") == "POST", browser.tags
    assert "InjectedFault" in backend.exception_text, backend.summary()


def test_backend_failure_frontend_and_backend_errors_share_one_trace(failure: FailureRun,
                                                                     spotlight: SpotlightCollector) -> None:
    """One trace from the click to the exception: the browser's sentry-trace header is continued by the backend."""
    rid = failure.ui_request_id
    browser, backend = eventually(lambda: _browser_and_backend_events(spotlight, rid), timeout=20,
                                  what=f"Sentry events tagged request_id={rid}")
    sent_trace = failed_call(failure).trace_id
    assert sent_trace, "the browser sent no sentry-trace header with the failing call"
    assert browser.trace_id == sent_trace, f"browser event trace {browser.trace_id}, header {sent_trace}"
    assert backend.trace_id == sent_trace, (
        f"backend event trace {backend.trace_id} != the browser's trace {sent_trace} "
        f"(sentry-trace sent: {failed_call(failure).sentry_trace})")


def test_backend_failure_counted_in_prometheus(failure: FailureRun, stack: Stack) -> None:
    def counted() -> bool:
        now = prometheus.values(stack.prometheus_url, COUNTERS)
        stale = {k: (failure.before[k], now[k]) for k in COUNTERS if now[k] < failure.before[k] + 1}
        assert not stale, f"did not grow by 1 (before, now): {stale}"
        return True

    eventually(counted, timeout=30, interval=1, what="the 500 and the unhandled exception in Prometheus")


def test_backend_failure_emits_no_phantom_business_event(failure: FailureRun, stack: Stack) -> None:
    """The failed create wrote nothing: exactly one project_created, from the successful retry."""
    retry = failure.journey.one_call("POST", FAULT_ROUTE, status=201)

    def created() -> list[dict]:
        events = [e for e in mixpanel.events_of(stack.capture_url, failure.user.id) if e["event"] == "project_created"]
        assert events, "no project_created yet"
        return events

    events = eventually(created, timeout=30, what="project_created in Mixpanel")
    assert [e["properties"].get("request_id") for e in events] == [retry.sent_request_id], events
