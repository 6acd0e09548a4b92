"""The frontend's own Sentry envelopes in Spotlight (browser and Next.js server), and how to make
the frontend sample a request so that its spans are sent at all.

The frontend samples 10% of traces; a test that looks for a leak in spans must make sure there
are spans to look at: the Next.js server continues an incoming `sentry-trace: <trace>-<span>-1`,
and the browser SDK samples when `Math.random()` is small (an init script pins it for one
context).
"""

from __future__ import annotations

import secrets
from typing import Any

from support.spotlight import Envelope, SpotlightCollector

# For a browser context whose page loads must be traced: the SDK samples when Math.random() < rate.
SAMPLE_EVERYTHING_SCRIPT = "Math.random = () => 0.0001;"
# For a browser context whose Replay must be the on-error buffer (replaysOnErrorSampleRate 1.0), never
# the 1% whole-session recording (replaysSessionSampleRate 0.01), which sends its full snapshot early.
ON_ERROR_REPLAY_ONLY_SCRIPT = "Math.random = () => 0.5;"


def sampled_trace_header() -> tuple[str, str]:
    """(trace ID, `sentry-trace` value that asks for sampling)."""
    trace_id = secrets.token_hex(16)
    return trace_id, f"{trace_id}-{secrets.token_hex(8)}-1"


def _sdk_names(envelope: Envelope) -> set[str]:
    names = {str((envelope.header.get("sdk") or {}).get("name", ""))}
    for _, payload in envelope.items:
        if isinstance(payload, dict):
            names.add(str((payload.get("sdk") or {}).get("name", "")))
    return names


def is_frontend(envelope: Envelope) -> bool:
    return any(name.startswith("sentry.javascript") for name in _sdk_names(envelope))


def frontend_envelopes(spotlight: SpotlightCollector, containing: str | None = None) -> list[Envelope]:
    return [e for e in spotlight.snapshot() if is_frontend(e) and (containing is None or containing in e.raw)]


def spans(envelope: Envelope) -> list[dict[str, Any]]:
    """Streamed spans (`span` items, v2 containers) of an envelope."""
    out = []
    for header, payload in envelope.items:
        if header.get("type") == "span" and isinstance(payload, dict):
            out.extend(item for item in payload.get("items", []) if isinstance(item, dict))
    return out


def attribute(span: dict[str, Any], name: str) -> Any:
    value = (span.get("attributes") or {}).get(name)
    return value.get("value") if isinstance(value, dict) else value
