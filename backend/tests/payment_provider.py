"""A local stand-in for the payment provider SaaS (the real httpx client talks to it).

Standard library only: a threading HTTP server on a free loopback port whose behaviour the
test sets (ok / fail / delay).
"""

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class PaymentProviderStub:
    def __init__(self) -> None:
        self.delay_seconds = 0.0
        self.fail = False
        self.charges: list[dict] = []
        self.generation = 0  # bumped by reset(): a slow request from an earlier test records nothing
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                generation = stub.generation
                if stub.delay_seconds:
                    time.sleep(stub.delay_seconds)
                if self.path != "/payments/charges":
                    self._send(404, {"error": "not found"})
                elif stub.fail:
                    self._send(500, {"error": "card_declined"})
                else:
                    charge = {"id": f"ch_{uuid.uuid4().hex}", "status": "succeeded", "request": body,
                              "idempotency_key": self.headers.get("Idempotency-Key"),
                              "baggage": self.headers.get("baggage"), "sentry_trace": self.headers.get("sentry-trace")}
                    if generation == stub.generation:
                        stub.charges.append(charge)
                    self._send(200, {"id": charge["id"], "status": "succeeded"})

            def _send(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/payments"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> "PaymentProviderStub":
        self.thread.start()
        return self

    def reset(self) -> None:
        self.generation += 1
        self.delay_seconds = 0.0
        self.fail = False
        self.charges.clear()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
