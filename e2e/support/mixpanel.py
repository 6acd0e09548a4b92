"""What the Mixpanel stand-in (the capture server, infra/local/capture_server.py) received."""

from __future__ import annotations

from typing import Any

from infra.testkit import Capture


def captured_events(capture_url: str) -> list[dict[str, Any]]:
    """Mixpanel events in arrival order: {event, properties, seq, endpoint}."""
    return Capture(capture_url).mixpanel_events()


def events_of(capture_url: str, distinct_id: str) -> list[dict[str, Any]]:
    return [e for e in captured_events(capture_url) if str(e.get("properties", {}).get("distinct_id")) == distinct_id]


def names(events: list[dict[str, Any]]) -> list[str]:
    return [e["event"] for e in events]
