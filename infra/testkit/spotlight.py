"""Everything Spotlight (the local Sentry) receives, collected for the whole test session.

Spotlight's sidecar streams envelopes as server-sent events at `GET /stream`
(`Accept: text/event-stream`), one `data:` line of JSON per envelope:
`[envelope_header, [[item_header, payload], ...]]`. Measured: a new subscriber first gets a replay
of the sidecar's buffer (its last 500 envelopes), then live envelopes. We subscribe once, in a
background thread, when the session starts, so nothing the journeys cause can scroll out of that
buffer before we look. Reconnects de-duplicate by Spotlight's own envelope ID.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass(frozen=True)
class Envelope:
    header: dict[str, Any]
    items: list[tuple[dict[str, Any], Any]]
    raw: str


@dataclass
class SentryEvent:
    """An error event (envelope item of type `event`) and the fields the journeys compare."""

    payload: dict[str, Any]

    @property
    def event_id(self) -> str:
        return str(self.payload.get("event_id", "")).replace("-", "")

    @property
    def platform(self) -> str:
        return str(self.payload.get("platform", ""))

    @property
    def sdk(self) -> str:
        return str((self.payload.get("sdk") or {}).get("name", ""))

    @property
    def is_browser(self) -> bool:
        return self.platform == "javascript"

    @property
    def is_backend(self) -> bool:
        return self.platform == "python"

    @property
    def tags(self) -> dict[str, str]:
        tags = self.payload.get("tags") or {}
        if isinstance(tags, list):  # some SDKs send [[key, value], ...]
            tags = {k: v for k, v in tags}
        return {str(k): str(v) for k, v in tags.items()}

    @property
    def trace_id(self) -> str | None:
        return ((self.payload.get("contexts") or {}).get("trace") or {}).get("trace_id")

    @property
    def exception_text(self) -> str:
        values = (self.payload.get("exception") or {}).get("values") or []
        return " | ".join(f"{v.get('type')}: {v.get('value')}" for v in values)

    def summary(self) -> str:
        return (f"{self.platform}/{self.sdk} event {self.event_id} trace={self.trace_id} "
                f"request_id={self.tags.get('request_id')} {self.exception_text[:120]}")


@dataclass
class SpotlightCollector:
    url: str  # Spotlight's base URL, e.g. http://127.0.0.1:18969
    envelopes: list[Envelope] = field(default_factory=list)
    _seen: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _connected: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _client: httpx.Client | None = None
    error: str | None = None

    def start(self, timeout: float = 10.0) -> None:
        self._thread = threading.Thread(target=self._run, name="spotlight-sse", daemon=True)
        self._thread.start()
        if not self._connected.wait(timeout):
            raise RuntimeError(f"could not subscribe to {self.url}/stream within {timeout}s: {self.error}")

    def stop(self) -> None:
        self._stop.set()
        if self._client is not None:
            self._client.close()  # unblocks the reader
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with httpx.Client(timeout=httpx.Timeout(5.0, read=None)) as client:
                    self._client = client
                    with client.stream("GET", f"{self.url}/stream",
                                       headers={"Accept": "text/event-stream"}) as response:
                        response.raise_for_status()
                        self._connected.set()
                        data: list[str] = []
                        for line in response.iter_lines():
                            if line.startswith("data:"):
                                data.append(line[5:].lstrip(" "))
                            elif line == "" and data:
                                self._add("\n".join(data))
                                data = []
            except Exception as exc:  # closed by stop(), or Spotlight restarted: reconnect
                self.error = f"{type(exc).__name__}: {exc}"
            if not self._stop.is_set():
                time.sleep(0.5)

    def _add(self, raw: str) -> None:
        try:
            header, items = json.loads(raw)
        except (ValueError, TypeError):
            header, items = {}, []
        key = str(header.get("__spotlight_envelope_id") or hash(raw))
        with self._lock:
            if key in self._seen:
                return
            self._seen.add(key)
            pairs = [(ih, payload) for ih, payload in items if isinstance(ih, dict)]
            self.envelopes.append(Envelope(header=header, items=pairs, raw=raw))

    # queries ---------------------------------------------------------------------------------
    def snapshot(self) -> list[Envelope]:
        with self._lock:
            return list(self.envelopes)

    def payloads(self, item_type: str) -> list[dict[str, Any]]:
        """The JSON payloads of every envelope item of this type (`event`, `transaction`, `replay_event`, ...)."""
        return [payload for env in self.snapshot() for ih, payload in env.items
                if ih.get("type") == item_type and isinstance(payload, dict)]

    def error_events(self) -> list[SentryEvent]:
        return [SentryEvent(payload) for payload in self.payloads("event")]

    def browser_errors_with(self, text: str) -> list[SentryEvent]:
        """Browser error events whose exception type or message contains `text`."""
        return [e for e in self.error_events() if e.is_browser and text in e.exception_text]

    def transactions(self) -> list[dict[str, Any]]:
        """Transaction payloads (envelope items of type `transaction`), each with its `spans`."""
        return self.payloads("transaction")

    def events_tagged(self, request_id: str) -> list[SentryEvent]:
        return [e for e in self.error_events() if e.tags.get("request_id") == request_id]

    def raw_texts(self) -> list[str]:
        return [env.raw for env in self.snapshot()]
