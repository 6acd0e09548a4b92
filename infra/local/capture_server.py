"""Capture server: the local stand-in for the SaaS endpoints the product cannot reach here.

It speaks just enough of each API for the real client to be the one talking to it:

* Mixpanel ingestion (`/mixpanel/track`, `/mixpanel/import`): what the official `mixpanel` SDK
  posts (form field `data` holding a JSON event or array, `verbose=1`), answered with
  `{"status": 1}`. `PUT /_control/mixpanel {"down": true}` makes it answer 503 (an outage).
* Slack incoming webhooks (`/slack/<channel>`) and the PagerDuty Events API v2
  (`/pagerduty/v2/enqueue`), which Alertmanager's receivers post to.
* A payment provider (`/payments/charges`) for the billing endpoint; `PUT /_control/payments
  {"delay_ms": N, "fail": bool}` makes it slow or failing.
* Anything else under `/webhook/<name>` is captured as a generic webhook.

What arrived is listed at `GET /api/captured?kind=...` (JSON, oldest first), cleared by
`DELETE /api/captured`, and shown to a person at `GET /`.

Written with the standard library only (a threading HTTP server) so that it starts in
milliseconds and has nothing to install; there is no maintained package that fakes these four
services together. It keeps everything in memory and is meant for loopback only.
"""

from __future__ import annotations

import argparse
import html
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

MAX_BODY = 5 * 1024 * 1024
KINDS = ("mixpanel", "slack", "pagerduty", "payments", "webhook")


class Store:
    """Thread-safe record of what arrived, plus the switches that simulate outages."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[dict[str, Any]] = []
        self._seq = 0
        self.mixpanel_down = False
        self.payments_delay_ms = 0
        self.payments_fail = False

    def add(self, kind: str, **fields: Any) -> dict[str, Any]:
        with self._lock:
            self._seq += 1
            item = {"seq": self._seq, "kind": kind, "received_at": time.time(), **fields}
            self._items.append(item)
            return item

    def list(self, kind: str | None = None, since: int = 0) -> list[dict[str, Any]]:
        with self._lock:
            return [i for i in self._items if (kind is None or i["kind"] == kind) and i["seq"] > since]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def controls(self) -> dict[str, Any]:
        return {
            "mixpanel": {"down": self.mixpanel_down},
            "payments": {"delay_ms": self.payments_delay_ms, "fail": self.payments_fail},
        }


def decode_mixpanel(body: bytes, content_type: str) -> list[dict[str, Any]]:
    """Return the events of one Mixpanel ingestion request (form `data=` or a JSON body)."""
    if "application/json" in content_type:
        payload = json.loads(body or b"[]")
    else:
        form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
        payload = json.loads(form.get("data", ["[]"])[0])
    return payload if isinstance(payload, list) else [payload]


class Handler(BaseHTTPRequestHandler):
    server: CaptureServer  # type: ignore[assignment]
    protocol_version = "HTTP/1.1"

    # --- plumbing -----------------------------------------------------------------------
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        if self.server.verbose:
            super().log_message(format, *args)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(length) if length else b""

    def _json(self, status: int, payload: Any) -> None:
        data = json.dumps(payload, default=str).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _html(self, text: str) -> None:
        data = text.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _headers(self) -> dict[str, str]:
        keep = ("content-type", "user-agent", "x-request-id", "sentry-trace", "baggage", "authorization")
        out = {k.lower(): v for k, v in self.headers.items() if k.lower() in keep}
        if "authorization" in out:  # show that it was sent, not what it was
            out["authorization"] = out["authorization"].split(" ")[0] + " <redacted>"
        return out

    # --- verbs --------------------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        store = self.server.store
        if url.path == "/api/captured":
            kind = query.get("kind", [None])[0]
            since = int(query.get("since", ["0"])[0] or 0)
            self._json(200, store.list(kind, since))
        elif url.path == "/api/controls":
            self._json(200, store.controls())
        elif url.path == "/health":
            self._json(200, {"status": "ok"})
        elif url.path == "/":
            self._html(render_index(store))
        else:
            self._json(404, {"error": "not found"})

    def do_DELETE(self) -> None:  # noqa: N802
        if urlsplit(self.path).path == "/api/captured":
            self.server.store.clear()
            self._json(200, {"cleared": True})
        else:
            self._json(404, {"error": "not found"})

    def do_PUT(self) -> None:  # noqa: N802
        path = urlsplit(self.path).path
        store = self.server.store
        try:
            body = json.loads(self._body() or b"{}")
        except ValueError:
            self._json(400, {"error": "invalid JSON"})
            return
        if path == "/_control/mixpanel":
            store.mixpanel_down = bool(body.get("down", False))
        elif path == "/_control/payments":
            store.payments_delay_ms = max(0, min(int(body.get("delay_ms", 0)), 120_000))
            store.payments_fail = bool(body.get("fail", False))
        else:
            self._json(404, {"error": "not found"})
            return
        self._json(200, store.controls())

    def do_POST(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        path = url.path.rstrip("/")
        store = self.server.store
        try:
            body = self._body()
        except ValueError:
            self._json(413, {"error": "body too large"})
            return
        content_type = self.headers.get("Content-Type", "")

        if path in ("/mixpanel/track", "/mixpanel/import", "/mixpanel/engage"):
            if store.mixpanel_down:
                store.add("mixpanel_rejected", endpoint=path.rsplit("/", 1)[1])
                self._json(503, {"status": 0, "error": "service unavailable (simulated outage)"})
                return
            try:
                events = decode_mixpanel(body, content_type)
            except (ValueError, UnicodeDecodeError):
                self._json(400, {"status": 0, "error": "could not parse data"})
                return
            batch = uuid.uuid4().hex
            for event in events:
                store.add("mixpanel", endpoint=path.rsplit("/", 1)[1], batch=batch, event=event,
                          headers=self._headers())
            self._json(200, {"status": 1, "error": None})
        elif path.startswith("/slack/"):
            payload = _json_or_text(body)
            store.add("slack", channel=path.split("/", 2)[2], payload=payload, headers=self._headers())
            self._json(200, {"ok": True})
        elif path == "/pagerduty/v2/enqueue":
            payload = _json_or_text(body)
            store.add("pagerduty", payload=payload, headers=self._headers())
            dedup = payload.get("dedup_key") if isinstance(payload, dict) else None
            self._json(202, {"status": "success", "message": "Event processed", "dedup_key": dedup})
        elif path == "/payments/charges":
            payload = _json_or_text(body)
            if store.payments_delay_ms:
                time.sleep(store.payments_delay_ms / 1000)
            if store.payments_fail:
                store.add("payments", payload=payload, headers=self._headers(), outcome="failed")
                self._json(502, {"error": "card_declined"})
                return
            charge = {"id": "ch_" + uuid.uuid4().hex[:16], "status": "succeeded"}
            store.add("payments", payload=payload, headers=self._headers(), outcome="succeeded", charge=charge)
            self._json(200, charge)
        elif path.startswith("/webhook/"):
            store.add("webhook", name=path.split("/", 2)[2], payload=_json_or_text(body), headers=self._headers())
            self._json(200, {"ok": True})
        else:
            self._json(404, {"error": "not found"})


def _json_or_text(body: bytes) -> Any:
    try:
        return json.loads(body or b"null")
    except ValueError:
        return body.decode("utf-8", "replace")


def render_index(store: Store) -> str:
    """A page a person can read: what each stand-in received, newest first."""
    rows = []
    for item in reversed(store.list()[-500:]):
        when = time.strftime("%H:%M:%S", time.localtime(item["received_at"]))
        detail = {k: v for k, v in item.items() if k not in ("seq", "kind", "received_at")}
        rows.append(
            f"<tr><td>{item['seq']}</td><td>{when}</td><td>{html.escape(item['kind'])}</td>"
            f"<td><pre>{html.escape(json.dumps(detail, indent=1, default=str)[:4000])}</pre></td></tr>"
        )
    counts = ", ".join(f"{k}: {len(store.list(k))}" for k in KINDS)
    return (
        "<!doctype html><meta charset=utf-8><title>capture server</title>"
        "<meta http-equiv=refresh content=5>"
        "<style>body{font:14px system-ui;margin:2em}td{vertical-align:top;border-top:1px solid #ddd;padding:4px}"
        "pre{margin:0;white-space:pre-wrap}</style>"
        "<h1>What would have been sent</h1>"
        f"<p>{html.escape(counts)} &middot; controls: {html.escape(json.dumps(store.controls()))}</p>"
        "<p>JSON: <a href=/api/captured>/api/captured</a> (?kind=mixpanel|slack|pagerduty|payments|webhook)</p>"
        "<table><tr><th>#</th><th>time</th><th>kind</th><th>payload</th></tr>" + "".join(rows) + "</table>"
    )


class CaptureServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], verbose: bool = False) -> None:
        super().__init__(address, Handler)
        self.store = Store()
        self.verbose = verbose


def serve_in_thread(host: str = "127.0.0.1", port: int = 0) -> CaptureServer:
    """Start a capture server in a daemon thread (for tests); `server.server_address` has the port."""
    server = CaptureServer((host, port))
    threading.Thread(target=server.serve_forever, name="capture-server", daemon=True).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9911)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    server = CaptureServer((args.host, args.port), verbose=args.verbose)
    print(f"capture server listening on http://{args.host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
