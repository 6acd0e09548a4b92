"""Smoke: sign up, create a project, and see that page's web vitals arrive in Prometheus.

Browser -> Next.js (/api proxy) -> FastAPI /api/rum/vitals -> histogram -> Prometheus scrape.
"""

from __future__ import annotations

import json
import re
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable

from playwright.sync_api import Page, Request, expect

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
PROMETHEUS_DEADLINE_S = 90  # scrape interval + first-sample latency, with room on a busy 2-core box


def prom_scalar(prometheus_url: str, query: str) -> float:
    url = f"{prometheus_url}/api/v1/query?{urllib.parse.urlencode({'query': query})}"
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback URL from env
        body = json.load(response)
    assert body["status"] == "success", body
    return sum(float(sample["value"][1]) for sample in body["data"]["result"])


def wait_until(check: Callable[[], bool], deadline_s: float, what: str, diagnostics: Callable[[], str]) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(1)
    raise AssertionError(f"timed out after {deadline_s}s waiting for {what}\n{diagnostics()}")


def test_signup_create_project_then_vitals_reach_prometheus(page: Page, frontend_url: str, prometheus_url: str) -> None:
    api_calls: list[Request] = []
    page.on("request", lambda r: api_calls.append(r) if "/api/" in r.url else None)

    lcp = 'sum(web_vitals_lcp_seconds_count{page="/dashboard"}) or vector(0)'
    ttfb = 'sum(web_vitals_ttfb_seconds_count{page="/dashboard"}) or vector(0)'
    before = {q: prom_scalar(prometheus_url, q) for q in (lcp, ttfb)}

    # Sign up (the UI, not the API): lands on the dashboard.
    page.goto(f"{frontend_url}/signup")
    page.get_by_label("Name", exact=True).fill("Smoke Test")
    page.get_by_label("Email").fill(f"e2e-smoke-{uuid.uuid4().hex[:12]}@example.com")
    page.get_by_label("Password (8 to 128 characters)").fill("correct-horse-battery-staple")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(re.compile(r"/dashboard$"))

    # Load the dashboard as a document of its own, so its vitals are measured, then create a project.
    page.goto(f"{frontend_url}/dashboard")
    expect(page.get_by_text("No projects yet")).to_be_visible()
    page.get_by_label("Name", exact=True).fill("Apollo")
    page.get_by_label("Description (optional)").fill("Created by the smoke test")
    page.get_by_role("button", name="Create project").click()
    expect(page.get_by_test_id("project-list")).to_contain_text("Apollo")

    # The project page works too (tasks are loaded through the proxy).
    page.get_by_role("link", name="Apollo").click()
    expect(page.get_by_role("heading", name="Apollo")).to_be_visible()
    expect(page.get_by_text("No tasks yet")).to_be_visible()

    # Leave the document: web-vitals reports LCP/CLS/INP when the page is hidden.
    page.goto(f"{frontend_url}/pricing")
    expect(page.get_by_role("heading", name="Pricing")).to_be_visible()

    sent_ids = [c.headers.get("x-request-id", "") for c in api_calls if c.url.startswith(f"{frontend_url}/api/")]
    assert sent_ids and all(REQUEST_ID.match(i) for i in sent_ids), sent_ids
    assert len(set(sent_ids)) == len(sent_ids), "every call gets a fresh X-Request-ID"

    def vitals_sent() -> str:
        beacons = [c.post_data for c in api_calls if c.url.endswith("/api/rum/vitals")]
        return "vitals the browser sent:\n" + "\n".join(str(b) for b in beacons)

    wait_until(lambda: prom_scalar(prometheus_url, ttfb) > before[ttfb], PROMETHEUS_DEADLINE_S,
               'web_vitals_ttfb_seconds_count{page="/dashboard"} to grow', vitals_sent)
    wait_until(lambda: prom_scalar(prometheus_url, lcp) > before[lcp], PROMETHEUS_DEADLINE_S,
               'web_vitals_lcp_seconds_count{page="/dashboard"} to grow', vitals_sent)
