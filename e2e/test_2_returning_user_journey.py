"""Journey 2: a returning user mistypes her password, then logs in, sees her projects and logs out.

Identity: the user's ID (created beforehand through the API) and the request IDs of the two login
attempts (the 401 and the 200).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import expect

from support import api, backend_log, mixpanel, prometheus
from support.browser import BrowserJourney
from support.canaries import CanaryRegistry, new_password
from support.polling import eventually
from support.stack import Stack

LOGIN = "/api/auth/login"
VITALS = {f"{v} /login": prometheus.live(f'web_vitals_{v}_seconds_count{{page="/login"}}') for v in ("ttfb", "fcp", "lcp")}
COUNTERS = {
    "login 401": prometheus.live(f'http_requests_total{{method="POST",route="{LOGIN}",status_code="401"}}'),
    "login 200": prometheus.live(f'http_requests_total{{method="POST",route="{LOGIN}",status_code="200"}}'),
}


@dataclass
class ReturningRun:
    journey: BrowserJourney
    user: api.ApiUser
    project_name: str
    before: dict[str, float] = field(default_factory=dict)


@pytest.fixture(scope="module")
def returning(journey: BrowserJourney, stack: Stack, canaries: CanaryRegistry) -> ReturningRun:
    j = "returning user journey"
    user = api.signup_canary_user(stack.backend_url, canaries, j, "e2e-back", "Cy Returning")
    wrong_password = canaries.add("password", new_password(), j)
    run = ReturningRun(journey=journey, user=user, project_name=f"Returning {secrets.token_hex(3)}")
    api.create_project(stack.backend_url, user, run.project_name)
    run.before = prometheus.values(stack.prometheus_url, {**VITALS, **COUNTERS})
    page = journey.page
    try:
        page.goto("/login")
        page.get_by_label("Email").fill(user.email)
        page.get_by_label("Password").fill(wrong_password)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("alert").filter(has_text="Invalid email or password")).to_be_visible()
        expect(page.get_by_test_id("request-id")).to_have_count(0)  # a 4xx is not a support case

        page.get_by_label("Password").fill(user.password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(re.compile(r"/dashboard$"))
        expect(page.get_by_test_id("project-list")).to_contain_text(run.project_name)
        journey.screenshot()

        page.get_by_role("button", name="Log out").click()
        page.wait_for_url(re.compile(r"/login$"))
        expect(page.get_by_role("link", name="Sign up")).to_be_visible()
    except Exception:
        journey.screenshot()
        raise
    return run


def test_returning_user_login_ui_states(returning: ReturningRun) -> None:
    statuses = [c.status for c in returning.journey.calls_to("POST", LOGIN)]
    assert statuses == [401, 200], statuses
    assert returning.journey.one_call("POST", "/api/auth/logout").status == 204


def test_request_id_propagation_login_attempts_to_backend_log(returning: ReturningRun, stack: Stack) -> None:
    for call in returning.journey.calls_to("POST", LOGIN) + returning.journey.calls_to("POST", "/api/auth/logout"):
        line = eventually(lambda c=call: backend_log.access_line(stack.backend_log_file, c.sent_request_id),
                          timeout=10, what=f"the log line of {call.method} {call.path}")
        assert (line["route"], line["status_code"]) == (call.route, call.status), line
        assert line["request_id"] == call.echoed_request_id, line


def test_returning_user_events_in_mixpanel_with_one_distinct_id(returning: ReturningRun, stack: Stack) -> None:
    def events() -> list[dict]:
        got = mixpanel.events_of(stack.capture_url, returning.user.id)
        views = [e for e in got if e["event"] == "page_viewed" and e["properties"].get("page") == "/dashboard"]
        assert views, f"no page_viewed /dashboard yet: {mixpanel.names(got)}"
        return got

    got = eventually(events, timeout=30, what="page_viewed /dashboard in Mixpanel")
    assert mixpanel.names(got).count("signed_up") == 1, mixpanel.names(got)
    assert {e["properties"]["distinct_id"] for e in got} == {returning.user.id}
    insert_ids = [e["properties"]["$insert_id"] for e in got]
    assert len(set(insert_ids)) == len(insert_ids), "an event was delivered twice"


def test_login_page_web_vitals_reach_prometheus(returning: ReturningRun, stack: Stack) -> None:
    def grew() -> bool:
        now = prometheus.values(stack.prometheus_url, VITALS)
        stale = {k: (returning.before[k], now[k]) for k in VITALS if now[k] <= returning.before[k]}
        assert not stale, f"web-vital counts that did not grow (before, now): {stale}"
        return True

    eventually(grew, timeout=45, interval=1, what="web vitals of /login")


def test_login_attempts_counted_in_prometheus(returning: ReturningRun, stack: Stack) -> None:
    def counted() -> bool:
        now = prometheus.values(stack.prometheus_url, COUNTERS)
        stale = {k: (returning.before[k], now[k]) for k in COUNTERS if now[k] < returning.before[k] + 1}
        assert not stale, f"did not grow by 1 (before, now): {stale}"
        return True

    eventually(counted, timeout=30, interval=1, what="the 401 and the 200 login in Prometheus")
