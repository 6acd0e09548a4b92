"""Journey 9: an error after Replay has started reaches Sentry with a replay of the page, text and inputs masked.

A visitor opens /signup and types a name and an e-mail; once Replay has started (the User Timing
mark `sentry-replay-started` that frontend/lib/sentry/replay.ts sets) they type a password, and an
uncaught error is thrown on the page. The on-error buffer must then be flushed: a `replay_event`
linked both ways with the error (the error's `replayId` tag, the replay's `error_ids`), and a recording whose full DOM snapshot and input events show no typed value and no
page text (maskAllText, maskAllInputs). Spotlight's event stream carries the recording as `null`
(it is zlib-compressed binary), so the recording is read from the envelopes the browser itself
posted, parsed with sentry-sdk's envelope parser.

Also checked: when Replay starts. It waits for the page to settle (5 s after `load` without a long
task, at most 10 s; frontend/instrumentation-client.ts), so an error earlier than that has no replay
(docs/benchmarks.md, "Frontend").
"""

from __future__ import annotations

import json
import re
import secrets
import zlib
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.sync_api import Request
from sentry_sdk.envelope import Envelope as SdkEnvelope

from support.browser import BrowserJourney
from support.canaries import CanaryRegistry, new_email, new_password
from support.frontend_sentry import ON_ERROR_REPLAY_ONLY_SCRIPT
from support.polling import eventually
from support.spotlight import SentryEvent, SpotlightCollector

REPLAY_STARTED_MARK = "sentry-replay-started"  # frontend/lib/sentry/replay.ts
QUIET_AFTER_LOAD_MS = 5000  # frontend/instrumentation-client.ts, REPLAY_START.quietMs
MASKED = re.compile(r"^[\s*]*$")

# rrweb's event and node types (the recording format).
FULL_SNAPSHOT, INCREMENTAL = 2, 3
TEXT_NODE, ELEMENT_NODE = 3, 2
INPUT_SOURCE = 5


@dataclass
class ReplayRun:
    journey: BrowserJourney
    marker: str
    email: str
    password: str
    replay_started_after_load_ms: float = 0.0
    page_text: str = ""
    posted: list[bytes] = field(default_factory=list)
    post_status: int | None = None  # what the tunnel answered the browser's replay POST


def _is_replay_post(request: Request) -> bool:
    return request.method == "POST" and b'"replay_recording"' in (request.post_data_buffer or b"")


@pytest.fixture(scope="module")
def replay(journey: BrowserJourney, canaries: CanaryRegistry) -> ReplayRun:
    name = __name__.rsplit(".", 1)[-1]
    run = ReplayRun(journey=journey, marker=f"e2e replay error {secrets.token_hex(6)}",
                    email=canaries.add("email", new_email("replay"), name),
                    password=canaries.add("password", new_password(), name))
    journey.context.add_init_script(ON_ERROR_REPLAY_ONLY_SCRIPT)
    page = journey.page
    try:
        page.goto("/signup")
        page.get_by_label("Name", exact=True).fill("Rita Replay")
        page.get_by_label("Email").fill(run.email)
        run.replay_started_after_load_ms = eventually(lambda: page.evaluate(
            """(mark) => {
                 const started = performance.getEntriesByName(mark)[0];
                 const nav = performance.getEntriesByType('navigation')[0];
                 return started && nav ? started.startTime - nav.loadEventStart : null;
               }""", REPLAY_STARTED_MARK), timeout=30, interval=0.5, what="Replay's start (the User Timing mark)")
        page.get_by_label("Password (8 to 128 characters)").fill(run.password)  # recorded as input events
        run.page_text = page.locator("body").inner_text()
        # The flush waits for Replay's flushMinDelay (5 s) after the error.
        with page.expect_request(_is_replay_post, timeout=30_000) as posted:
            page.evaluate("(marker) => setTimeout(() => { throw new Error(marker); }, 0)", run.marker)
        run.posted.append(posted.value.post_data_buffer or b"")
        response = posted.value.response()
        run.post_status = response.status if response is not None else None
        journey.screenshot()
    except Exception:
        journey.screenshot()
        raise
    return run


def _error_event(spotlight: SpotlightCollector, marker: str) -> SentryEvent:
    events = spotlight.browser_errors_with(marker)
    assert events, f"no browser error with {marker!r} in Spotlight yet"
    return events[0]


def _replay_events(spotlight: SpotlightCollector, replay_id: str) -> list[dict[str, Any]]:
    found = [payload for payload in spotlight.payloads("replay_event")
             if str(payload.get("replay_id", "")).replace("-", "") == replay_id]
    assert found, f"no replay_event {replay_id} in Spotlight yet"
    return found


def _recording_events(posted: list[bytes]) -> list[dict[str, Any]]:
    """rrweb events of every replay_recording item the browser posted (payload: a JSON line, then zlib data)."""
    events: list[dict[str, Any]] = []
    for body in posted:
        for item in SdkEnvelope.deserialize(body).items:
            if item.headers.get("type") != "replay_recording":
                continue
            _segment, _, data = item.payload.get_bytes().partition(b"\n")
            events.extend(json.loads(zlib.decompress(data) if data[:1] == b"\x78" else data))
    return events


def _nodes(node: dict[str, Any], parent_tag: str = "") -> list[tuple[str, dict[str, Any]]]:
    out = [(parent_tag, node)]
    for child in node.get("childNodes", []):
        out.extend(_nodes(child, node.get("tagName", parent_tag)))
    return out


def test_replay_starts_once_the_page_has_settled(replay: ReplayRun) -> None:
    assert replay.replay_started_after_load_ms >= QUIET_AFTER_LOAD_MS, (
        f"Replay started {replay.replay_started_after_load_ms:.0f} ms after load, before the {QUIET_AFTER_LOAD_MS} ms quiet period")


def test_error_and_replay_are_linked_both_ways(replay: ReplayRun, spotlight: SpotlightCollector) -> None:
    # an error answer makes the SDK stop the replay (frontend/lib/spotlightTunnel.ts, spotlightEnvelopes)
    assert replay.post_status == 200, f"the tunnel answered the replay POST {replay.post_status}"
    error = eventually(lambda: _error_event(spotlight, replay.marker), timeout=20, what="the error in Spotlight")
    replay_id = error.tags.get("replayId", "").replace("-", "")  # set by the Replay integration on every error
    assert re.fullmatch(r"[0-9a-f]{32}", replay_id), f"the error names no replay: {error.summary()}"
    replays = eventually(lambda: _replay_events(spotlight, replay_id), timeout=20, what=f"replay_event {replay_id}")
    error_ids = {str(i).replace("-", "") for r in replays for i in r.get("error_ids") or []}
    assert error.event_id in error_ids, f"replay {replay_id} does not list error {error.event_id}: {sorted(error_ids)}"


def test_replay_recording_masks_page_text_and_typed_values(replay: ReplayRun, canaries: CanaryRegistry) -> None:
    events = _recording_events(replay.posted)
    snapshots = [e for e in events if e.get("type") == FULL_SNAPSHOT]
    assert snapshots, f"no full DOM snapshot among {len(events)} recording events: {[e.get('type') for e in events]}"
    nodes = _nodes(snapshots[0]["data"]["node"])
    texts = [n.get("textContent", "") for parent, n in nodes
             if n.get("type") == TEXT_NODE and parent not in ("style", "script") and n.get("textContent", "").strip()]
    # Positive control: the page shows text, and the snapshot holds its text nodes.
    assert replay.page_text.strip() and len(texts) >= 3, (replay.page_text[:200], texts[:5])
    unmasked = [t for t in texts if not MASKED.match(t)]
    assert not unmasked, f"page text in the replay, unmasked: {unmasked[:5]}"
    values = [n["attributes"]["value"] for _, n in nodes
              if n.get("type") == ELEMENT_NODE and n.get("tagName") == "input" and n.get("attributes", {}).get("value")]
    assert values and all(MASKED.match(v) for v in values), f"input values in the snapshot: {values}"
    typed = [e["data"].get("text", "") for e in events
             if e.get("type") == INCREMENTAL and e.get("data", {}).get("source") == INPUT_SOURCE]
    assert typed and all(MASKED.match(t) for t in typed), f"input events after Replay started: {typed[:5]}"
    assert not canaries.hits({"the replay recording": json.dumps(events)})
