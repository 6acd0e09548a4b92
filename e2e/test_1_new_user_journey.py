"""Journey 1: a new user signs up, creates a project, adds and completes a task, and upgrades to Pro.

The browser part runs once (module fixture `new_user`); each test then checks one signal for the
same identity: the user's ID (Mixpanel distinct ID, log user_id) and the X-Request-ID of every
call the browser made (log lines, Mixpanel event properties).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import expect

from support import backend_log, mixpanel, prometheus
from support.browser import UUID, BrowserJourney
from support.canaries import CanaryRegistry, new_email, new_password
from support.polling import eventually
from support.stack import Stack

DOCUMENT_PAGES = ["/signup", "/dashboard", "/projects/[id]", "/pricing"]  # each loaded as a document
VITALS = ["ttfb", "fcp", "lcp"]
FUNNEL = ["signed_up", "project_created", "task_completed", "upgrade_clicked", "plan_upgraded"]
COUNTERS = {
    "signups": prometheus.live("signups_total"),
    "projects_created": prometheus.live("projects_created_total"),
    "tasks_completed": prometheus.live("tasks_completed_total"),
    "plan_upgrades": prometheus.live('plan_upgrades_total{plan="pro"}'),
}


def vital_query(vital: str, page: str) -> str:
    return prometheus.live(f'web_vitals_{vital}_seconds_count{{page="{page}"}}')


@dataclass
class NewUser:
    journey: BrowserJourney
    email: str
    password: str
    user_id: str = ""
    workspace_id: str = ""
    token: str = ""
    project_id: str = ""
    before: dict[str, float] = field(default_factory=dict)


@pytest.fixture(scope="module")
def new_user(journey: BrowserJourney, stack: Stack, canaries: CanaryRegistry) -> NewUser:
    run = NewUser(journey=journey, email=canaries.add("email", new_email("e2e-new"), "new user journey"),
                  password=canaries.add("password", new_password(), "new user journey"))
    run.before = prometheus.values(stack.prometheus_url, {
        **COUNTERS, **{f"{v} {p}": vital_query(v, p) for v in VITALS for p in DOCUMENT_PAGES}})
    page = journey.page
    suffix = secrets.token_hex(3)
    try:
        # Sign up: the form posts to /api/auth/signup and lands on the dashboard.
        page.goto("/signup")
        page.get_by_label("Name", exact=True).fill("Ada New")
        page.get_by_label("Email").fill(run.email)
        page.get_by_label("Password (8 to 128 characters)").fill(run.password)
        with page.expect_response(lambda r: r.url.endswith("/api/auth/signup")) as signup:
            page.get_by_role("button", name="Create account").click()
        assert signup.value.status == 201, signup.value.text()
        body = signup.value.json()
        run.user_id, run.workspace_id = body["user"]["id"], body["user"]["workspace_id"]
        run.token = canaries.add("token", body["token"], "new user journey")
        page.wait_for_url(re.compile(r"/dashboard$"))

        # The dashboard as a document of its own (its web vitals are measured), then a project.
        page.goto("/dashboard")
        expect(page.get_by_text("No projects yet")).to_be_visible()
        project_name = f"Apollo {suffix}"
        page.get_by_label("Name", exact=True).fill(project_name)
        page.get_by_label("Description (optional)").fill("Made by the new-user journey")
        page.get_by_role("button", name="Create project").click()
        expect(page.get_by_test_id("project-list")).to_contain_text(project_name)

        # Into the project (client-side navigation), then reload it as a document.
        page.get_by_role("link", name=project_name).click()
        page.wait_for_url(re.compile(rf"/projects/{UUID}$"))
        run.project_id = page.url.rsplit("/", 1)[1]
        page.goto(f"/projects/{run.project_id}")
        expect(page.get_by_role("heading", name=project_name)).to_be_visible()
        expect(page.get_by_text("No tasks yet")).to_be_visible()

        # A task: add it, complete it.
        task_title = f"Launch checklist {suffix}"
        page.get_by_label("Task title").fill(task_title)
        page.get_by_role("button", name="Add task").click()
        expect(page.get_by_test_id("task-list")).to_contain_text(task_title)
        page.get_by_role("button", name="Complete").click()
        expect(page.get_by_role("button", name="Complete")).to_have_count(0)
        expect(page.get_by_test_id("task-list").get_by_text(task_title)).to_have_class(re.compile(r"\bdone\b"))

        # Pricing: free plan, upgrade, Pro.
        page.goto("/pricing")
        expect(page.get_by_role("region", name="Free plan")).to_contain_text("Current plan")
        page.get_by_role("button", name="Upgrade to Pro").click()
        expect(page.get_by_role("status")).to_contain_text("Welcome to Pro")
        expect(page.get_by_role("region", name="Pro plan")).to_contain_text("Current plan")
        journey.screenshot()

        # Leave the pricing document so its LCP is reported (web-vitals sends it when the page is hidden).
        page.goto("/dashboard")
        expect(page.get_by_test_id("project-list")).to_contain_text(project_name)
    except Exception:
        journey.screenshot()
        raise
    return run


def test_new_user_journey_ui_states(new_user: NewUser) -> None:
    """Every step above showed its state (the fixture asserts them); no call the browser made failed."""
    failed = [c for c in new_user.journey.calls if c.status is None or c.status >= 400]
    assert not failed, f"browser calls that failed during the happy path: {failed}"
    assert new_user.journey.one_call("POST", "/api/billing/upgrade").status == 200


def test_request_id_echoed_on_every_browser_call(new_user: NewUser) -> None:
    calls = new_user.journey.calls
    assert len(calls) >= 8, calls
    missing = [c for c in calls if not c.sent_request_id]
    assert not missing, f"calls without an X-Request-ID from the browser: {missing}"
    assert len({c.sent_request_id for c in calls}) == len(calls), "every call gets a fresh X-Request-ID"
    changed = [c for c in calls if c.echoed_request_id != c.sent_request_id]
    assert not changed, f"the backend did not echo the browser's X-Request-ID: {changed}"


def test_request_id_propagation_browser_to_backend_log(new_user: NewUser, stack: Stack) -> None:
    """Each browser call has exactly one backend access line: same request ID, route template, method, status."""
    for call in new_user.journey.calls:
        line = eventually(lambda c=call: backend_log.access_line(stack.backend_log_file, c.sent_request_id),
                          timeout=10, what=f"the log line of {call.method} {call.path}")
        assert (line["method"], line["route"], line["status_code"]) == (call.method, call.route, call.status), line
        assert line["path"] == call.path.split("?", 1)[0], line
    for method, route in [("POST", "/api/projects"), ("POST", "/api/projects/{project_id}/tasks"),
                          ("POST", "/api/tasks/{task_id}/complete"), ("POST", "/api/billing/upgrade")]:
        call = new_user.journey.one_call(method, route)
        line = backend_log.access_line(stack.backend_log_file, call.sent_request_id)
        assert line["user_id"] == new_user.user_id, f"{method} {route}: log user_id {line['user_id']}"


def _funnel_events(stack: Stack, user_id: str) -> list[dict]:
    events = mixpanel.events_of(stack.capture_url, user_id)
    have = mixpanel.names(events)
    assert all(name in have for name in FUNNEL), f"funnel so far: {have}"
    return events


def test_funnel_events_reach_mixpanel_in_order_once_with_one_distinct_id(new_user: NewUser, stack: Stack) -> None:
    events = eventually(lambda: _funnel_events(stack, new_user.user_id), timeout=30, what="the funnel in Mixpanel")
    names = mixpanel.names(events)
    funnel = [n for n in names if n in FUNNEL]
    assert funnel == FUNNEL, f"funnel events in arrival order: {names}"
    insert_ids = [e["properties"]["$insert_id"] for e in events]
    assert len(set(insert_ids)) == len(insert_ids), f"an event was delivered twice: {names}"
    assert {e["properties"]["distinct_id"] for e in events} == {new_user.user_id}
    workspaces = {e["properties"].get("workspace_id") for e in events} - {None}  # task events carry none
    assert workspaces == {new_user.workspace_id}, workspaces
    viewed = {e["properties"].get("page") for e in events if e["event"] == "page_viewed"}
    assert {"/dashboard", "/projects/[id]", "/pricing"} <= viewed, f"page_viewed pages: {viewed}"
    assert [e["properties"].get("page") for e in events if e["event"] == "upgrade_clicked"] == ["/pricing"]


def test_request_id_propagation_into_mixpanel_events(new_user: NewUser, stack: Stack) -> None:
    """The request that caused a business event is named in it: the same ID as the browser sent and the log line."""
    events = eventually(lambda: _funnel_events(stack, new_user.user_id), timeout=30, what="the funnel in Mixpanel")
    by_name = {e["event"]: e for e in events if e["event"] in FUNNEL}
    j = new_user.journey
    expected = {
        "signed_up": j.one_call("POST", "/api/auth/signup").sent_request_id,
        "project_created": j.one_call("POST", "/api/projects").sent_request_id,
        "task_completed": j.one_call("POST", "/api/tasks/{task_id}/complete").sent_request_id,
        "plan_upgraded": j.one_call("POST", "/api/billing/upgrade").sent_request_id,
    }
    got = {name: by_name[name]["properties"].get("request_id") for name in expected}
    assert got == expected
    event_calls = {c.sent_request_id for c in j.calls_to("POST", "/api/events")}
    assert by_name["upgrade_clicked"]["properties"].get("request_id") in event_calls


def test_web_vitals_of_visited_pages_reach_prometheus(new_user: NewUser, stack: Stack) -> None:
    """Browser web-vitals -> POST /api/rum/vitals -> histograms by page template -> Prometheus."""
    queries = {f"{v} {p}": vital_query(v, p) for v in VITALS for p in DOCUMENT_PAGES}

    def all_grew() -> bool:
        now = prometheus.values(stack.prometheus_url, queries)
        stale = {k: now[k] for k in queries if now[k] <= new_user.before[k]}
        assert not stale, "web-vital counts that did not grow (before -> now): " + ", ".join(
            f"{k}: {new_user.before[k]:g} -> {v:g}" for k, v in stale.items())
        return True

    eventually(all_grew, timeout=45, interval=1, what="web vitals of " + ", ".join(DOCUMENT_PAGES))
    sent = [c for c in new_user.journey.calls if c.route == "/api/rum/vitals"]
    assert sent and all(c.status == 204 for c in sent), sent


def test_business_counters_moved_in_prometheus(new_user: NewUser, stack: Stack) -> None:
    def moved() -> bool:
        now = prometheus.values(stack.prometheus_url, COUNTERS)
        stale = {k: (new_user.before[k], now[k]) for k in COUNTERS if now[k] < new_user.before[k] + 1}
        assert not stale, f"counters that did not move by at least 1 (before, now): {stale}"
        return True

    eventually(moved, timeout=30, interval=1, what="signups/projects/tasks/upgrades counters")
