"""What the Mixpanel stand-in (the capture server, infra/local/capture_server.py) received."""

from __future__ import annotations

from typing import Any

import httpx


def captured_events(capture_url: str) -> list[dict[str, Any]]:
    """Mixpanel events in arrival order: {event, properties, seq, endpoint}."""
    response = httpx.get(f"{capture_url}/api/captured", params={"kind": "mixpanel"}, timeout=5)
    response.raise_for_status()
    return [{**item["event"], "seq": item["seq"], "endpoint": item.get("endpoint")} for item in response.json()]


def events_of(capture_url: str, distinct_id: str) -> list[dict[str, Any]]:
    return [e for e in captured_events(capture_url) if str(e.get("properties", {}).get("distinct_id")) == distinct_id]


def names(events: list[dict[str, Any]]) -> list[str]:
    return [e["event"] for e in events]
