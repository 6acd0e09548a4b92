"""A local stand-in for Sentry's envelope endpoint (and Spotlight's /stream), for the transports' tests.

Standard library only: a keep-alive HTTP/1.1 server on a free loopback port that records every
request it read (path, headers, the decoded envelope) and answers as the test says: a status and
headers, `close` (answer, then close the connection), `drop` (read the request, close without an
answer) or `hang` (read it, never answer)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import brotli


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    envelope: bytes
    answered: bool


class SentryStub:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.behaviour: list[str] = []  # consumed one per request; "ok" once empty
        self.status = 200
        self.answer_headers: dict[str, str] = {}
        self.connections = 0
        self.lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                with stub.lock:
                    stub.connections += 1

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.headers.get("Content-Encoding") == "br":
                    body = brotli.decompress(body)
                with stub.lock:
                    behaviour = stub.behaviour.pop(0) if stub.behaviour else "ok"
                record = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body,
                                  behaviour in ("ok", "close"))
                with stub.lock:
                    stub.received.append(record)
                if behaviour == "drop":
                    self.close_connection = True
                    return
                if behaviour == "hang":
                    time.sleep(3)
                    self.close_connection = True
                    return
                self.send_response(stub.status)
                for name, value in stub.answer_headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                if behaviour == "close":
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda request, address: None  # a client's reset (the tests abort some)
        self.port = self.server.server_address[1]
        self.dsn = f"http://public@127.0.0.1:{self.port}/42"
        self.stream_url = f"http://127.0.0.1:{self.port}/stream"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answered_with(self, needle: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.answered and needle.encode() in r.envelope]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
