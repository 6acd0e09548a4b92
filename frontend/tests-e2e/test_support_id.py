"""A failing API call: the UI shows the request ID, the browser's Sentry event (in Spotlight,
through the same-origin relay) is tagged with the same ID, and it is in the same trace as the
backend's work (sentry-trace propagated through the /api proxy).

Uses the backend's guarded fault injection (FAULT_INJECTION_ENABLED=true, loopback only), so it
needs BACKEND_URL (direct, not through the frontend) and SPOTLIGHT_URL; skipped without them.
"""

from __future__ import annotations

import json
import os
import re
import threading
import urllib.request
import uuid

import pytest
from playwright.sync_api import Page, expect


def backend_call(method: str, url: str, body: dict | None = None) -> int:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback URL from env
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


class SpotlightEvents:
    """Collects Sentry error events from Spotlight's SSE stream in a background thread."""

    def __init__(self, base: str) -> None:
        self.events: list[dict] = []
        self._response = urllib.request.urlopen(f"{base}/stream?client=northstar-e2e", timeout=60)  # noqa: S310
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for raw in self._response:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                if not line.startswith("data:"):
                    continue
                try:
                    envelope = json.loads(line[5:])
                except ValueError:
                    continue
                for header, item in envelope[1] if len(envelope) > 1 else []:
                    if isinstance(header, dict) and header.get("type") == "event" and isinstance(item, dict):
                        self.events.append(item)
        except Exception:  # noqa: BLE001 - the stream is closed at teardown
            return

    def close(self) -> None:
        self._response.close()


@pytest.fixture
def backend_url() -> str:
    url = os.environ.get("BACKEND_URL", "").rstrip("/")
    if not url or backend_call("GET", f"{url}/_faults") != 200:
        pytest.skip("needs BACKEND_URL with FAULT_INJECTION_ENABLED=true (make up does this locally)")
    return url


@pytest.fixture
def spotlight() -> SpotlightEvents:
    url = os.environ.get("SPOTLIGHT_URL", "").rstrip("/")
    if not url:
        pytest.skip("needs SPOTLIGHT_URL")
    events = SpotlightEvents(url)
    yield events
    events.close()


def test_failed_call_shows_request_id_and_reaches_spotlight_with_it(
    page: Page, frontend_url: str, backend_url: str, spotlight: SpotlightEvents
) -> None:
    page.goto(f"{frontend_url}/signup")
    page.get_by_label("Name", exact=True).fill("Support Test")
    page.get_by_label("Email").fill(f"e2e-support-{uuid.uuid4().hex[:12]}@example.com")
    page.get_by_label("Password (8 to 128 characters)").fill("correct-horse-battery-staple")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(re.compile(r"/dashboard$"))

    assert backend_call("PUT", f"{backend_url}/_faults", {"error_ratio": 1.0, "error_routes": ["/api/projects"]}) == 200
    try:
        with page.expect_response(lambda r: "/api/projects?" in r.url) as failed:
            page.reload()
        response = failed.value
        assert response.status >= 500
        notice = page.get_by_test_id("request-id")
        expect(notice).to_be_visible()
        shown = notice.inner_text()
        assert shown == response.headers.get("x-request-id"), "the UI shows the ID the backend echoed"
        expect(page.get_by_text("quote this when you contact support")).to_be_visible()
    finally:
        backend_call("DELETE", f"{backend_url}/_faults")

    def tagged(platform: str) -> list[dict]:
        return [e for e in spotlight.events
                if e.get("platform") == platform and (e.get("tags") or {}).get("request_id") == shown]

    for _ in range(40):  # poll with a deadline (20 s); the page stays open while the SDK sends
        if tagged("javascript"):
            break
        page.wait_for_timeout(500)
    seen = [(e.get("platform"), (e.get("tags") or {}).get("request_id")) for e in spotlight.events]
    assert tagged("javascript"), f"no browser Sentry event tagged request_id={shown} in Spotlight; saw {seen}"

    # One trace from the browser to the backend: the call carried sentry-trace, and the backend's
    # own event for that 5xx (tagged with the same request ID) is in the browser's trace.
    sent_trace = response.request.headers.get("sentry-trace", "")
    assert re.match(r"^[0-9a-f]{32}-[0-9a-f]{16}", sent_trace), f"no sentry-trace on the API call: {sent_trace!r}"
    browser_trace = tagged("javascript")[0]["contexts"]["trace"]["trace_id"]
    assert browser_trace == sent_trace[:32]
    for _ in range(20):
        if tagged("python"):
            break
        page.wait_for_timeout(500)
    assert tagged("python"), f"no backend Sentry event tagged request_id={shown}; saw {seen}"
    assert {e["contexts"]["trace"]["trace_id"] for e in tagged("python")} == {browser_trace}
