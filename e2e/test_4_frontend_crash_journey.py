"""Journey 4: the frontend crashes while rendering the root layout; the global error boundary takes over.

How we crash it without a special route in the product: the browser's localStorage throws when the
app reads its signed-in hint (as storage does when a browser blocks it). The nav bar in the root
layout reads that hint while rendering, so the error escapes every page-level boundary and
`frontend/app/global-error.tsx` renders, reports to Sentry and shows the event ID as the "Reference".
The shared identity: that reference is the Sentry event ID in Spotlight, whose exception carries
the marker we threw.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

import pytest
from playwright.sync_api import expect

from infra.product import PRODUCT
from support.browser import BrowserJourney
from support.polling import eventually
from support.spotlight import SentryEvent, SpotlightCollector

CRASH_SCRIPT = """(() => {
  const getItem = Storage.prototype.getItem;
  Storage.prototype.getItem = function (key) {
    if (key === '""" + f"{PRODUCT.slug}_signed_in" + """') throw new Error('%s');
    return getItem.call(this, key);
  };
})();"""


@dataclass
class CrashRun:
    journey: BrowserJourney
    marker: str
    reference: str = ""
    body_text: str = ""


@pytest.fixture(scope="module")
def crash(journey: BrowserJourney) -> CrashRun:
    run = CrashRun(journey=journey, marker=f"e2e frontend crash {secrets.token_hex(6)}")
    journey.context.add_init_script(CRASH_SCRIPT % run.marker)
    page = journey.page
    try:
        page.goto("/pricing")
        expect(page.get_by_role("heading", name=f"{PRODUCT.name} is having trouble")).to_be_visible()
        reference = page.get_by_text(re.compile(r"^Reference: ")).locator("code")
        expect(reference).to_have_text(re.compile(r"^[0-9a-f]{32}$"))
        run.reference = reference.inner_text().strip()
        run.body_text = page.locator("body").inner_text()
        journey.screenshot()
    except Exception:
        journey.screenshot()
        raise
    return run


def test_frontend_crash_shows_global_error_boundary(crash: CrashRun) -> None:
    assert "The error has been reported" in crash.body_text, crash.body_text
    assert "quote this when you contact support" in crash.body_text, crash.body_text
    assert crash.marker not in crash.body_text, "the exception text must not be shown to the user"
    assert crash.journey.page.get_by_role("link", name=f"Reload {PRODUCT.name}").is_visible()


def _crash_events(spotlight: SpotlightCollector, marker: str) -> list[SentryEvent]:
    events = spotlight.browser_errors_with(marker)
    assert events, f"no browser error event with {marker!r} in Spotlight yet"
    return events


def test_frontend_crash_reaches_spotlight_with_the_reference_shown(crash: CrashRun, spotlight: SpotlightCollector) -> None:
    events = eventually(lambda: _crash_events(spotlight, crash.marker), timeout=20, what="the crash in Spotlight")
    ids = [e.event_id for e in events]
    assert crash.reference in ids, f"the UI's reference {crash.reference} is not a Sentry event ID: {ids}"
    shown = next(e for e in events if e.event_id == crash.reference)
    assert shown.trace_id, shown.summary()
    url = (shown.payload.get("request") or {}).get("url", "")
    assert url.endswith("/pricing"), f"event request url: {url!r}"
