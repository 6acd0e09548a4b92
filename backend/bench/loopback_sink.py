"""A loopback HTTP sink for the benchmark's telemetry (stands in for Spotlight/Sentry and an OTLP
collector, which would compete for the 2 CPUs): accepts every POST with 200, reads the whole body,
and counts what arrived by kind, so the traced variants really serialise and ship their
transactions and spans. Sentry envelopes arrive at /stream (Spotlight transport) or
/api/<project>/envelope/ (sentry-sdk's HTTP transport), OTLP/HTTP spans at /v1/traces. A variant
whose Spotlight URL ends in /stream/<variant> is also counted by name (`received_by_variant`)."""

from __future__ import annotations

import sys
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote


def _kind(path: str) -> str:
    return "otlp" if path.startswith("/v1/traces") else "sentry"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a collector would

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        with self.server.lock:  # type: ignore[attr-defined]
            self.server.received[_kind(self.path)] += 1  # type: ignore[attr-defined]
            if self.path.startswith("/stream/"):
                self.server.by_variant[unquote(self.path[len("/stream/"):])] += 1  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """A client resetting its keep-alive connection at exit is not worth a traceback."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class LoopbackSink:
    def __init__(self) -> None:
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.received = Counter()  # type: ignore[attr-defined]
        self.server.by_variant = Counter()  # type: ignore[attr-defined]
        self.server.lock = threading.Lock()  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/stream"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def received(self) -> dict[str, int]:
        return dict(self.server.received)  # type: ignore[attr-defined]

    @property
    def received_by_variant(self) -> dict[str, int]:
        return dict(self.server.by_variant)  # type: ignore[attr-defined]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
