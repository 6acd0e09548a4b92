"""HTTP POSTs sent from the running event loop instead of a thread: the fast path of the Sentry
transports (app/core/sentry_transports.py).

Why it exists: sentry-sdk ships every envelope from its BackgroundWorker thread (urllib3), and
that thread competes with the event loop for the GIL. Measured here (docs/benchmarks.md, issue 16),
one sampled transaction cost ≈ 2 ms of the worker's CPU through the thread at 10% sampling, of
which ≈ 1 ms was the event loop's own time lost to the contention, against ≈ 0.5 ms when the same
envelope was written from the loop. sentry-sdk's own loop transport (`_experiments.transport_async`:
httpcore on anyio, one task per envelope) cost more than the thread here, and needs the
AsyncioIntegration, which wraps every task of every request. No maintained library sends a
fire-and-forget POST from asyncio for less, so this module is written by hand on top of two that do
the protocol work: h11 (the sans-IO HTTP/1.1 library httpcore and uvicorn are built on) frames the
requests and parses the responses, asyncio's Protocol does the I/O.

A LoopSender keeps up to `max_connections` keep-alive connections to one origin, one request in
flight on each, and a bounded queue, on the first event loop that uses it (a later loop takes over
once that one has stopped, as in tests; another thread's loop meanwhile is refused). `submit`
returns False, and the caller uses its thread path, when it is called off that loop (a thread,
atexit), when the queue is full, or for `backoff` seconds after a connection failed or a request
timed out. A request that was accepted and then
failed (connection refused or lost, timeout) is handed back through its `on_failure` callback, which
the transports use to send it the SDK's way: nothing accepted is dropped here. `abandon()` (the
transport's flush, at shutdown) hands every queued and in-flight request back the same way; an
in-flight one may then reach the server twice (Sentry drops an event ID it has already stored).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import h11


@dataclass
class Response:
    """What a transport needs of a response: the status, the headers (names lower-cased), the body."""

    status: int
    headers: dict[str, str]
    data: bytes = b""


@dataclass
class Request:
    body: bytes
    headers: list[tuple[str, str]]
    on_response: Callable[[Response], None]
    on_failure: Callable[[], None]
    done: bool = field(default=False, compare=False)

    def respond(self, response: Response) -> None:
        if not self.done:
            self.done = True
            self.on_response(response)

    def fail(self) -> None:
        if not self.done:
            self.done = True
            self.on_failure()


class _Connection(asyncio.Protocol):
    """One keep-alive connection, one request at a time (h11's client state machine)."""

    def __init__(self, sender: LoopSender) -> None:
        self.sender = sender
        self.h11 = h11.Connection(h11.CLIENT)
        self.transport: asyncio.Transport | None = None
        self.request: Request | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.status = 0
        self.headers: dict[str, str] = {}
        self.data = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        if asyncio.get_running_loop() is not self.sender.loop:  # opened for a loop since abandoned
            transport.abort()  # type: ignore[attr-defined]
            return
        self.sender._idle(self)

    def send(self, request: Request) -> None:
        self.request = request
        head = h11.Request(method="POST", target=self.sender.target,
                           headers=[("Host", self.sender.host_header), ("Content-Length", str(len(request.body))),
                                    *request.headers])
        data = self.h11.send(head) + self.h11.send(h11.Data(data=request.body)) + self.h11.send(h11.EndOfMessage())
        self.transport.write(data)  # type: ignore[union-attr]
        self.timer = self.sender.loop.call_later(self.sender.timeout, self._timed_out)

    def _timed_out(self) -> None:
        self.sender.back_off()
        self.transport.abort()  # type: ignore[union-attr]  # connection_lost fails the request

    def data_received(self, data: bytes) -> None:
        self.h11.receive_data(data)
        try:
            while True:
                event = self.h11.next_event()
                if event is h11.NEED_DATA:
                    return
                if isinstance(event, h11.Response):
                    self.status = event.status_code
                    self.headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in event.headers}
                elif isinstance(event, h11.Data):
                    self.data += event.data
                elif isinstance(event, h11.EndOfMessage):
                    self._finish()
                    return
                elif isinstance(event, h11.ConnectionClosed):
                    self.transport.close()  # type: ignore[union-attr]
                    return
        except h11.ProtocolError:
            self.transport.abort()  # type: ignore[union-attr]

    def _finish(self) -> None:
        request, self.request = self.request, None
        if self.timer is not None:
            self.timer.cancel()
        response = Response(self.status, self.headers, bytes(self.data))
        self.data.clear()
        if self.h11.our_state is h11.DONE and self.h11.their_state is h11.DONE:
            self.h11.start_next_cycle()
            self.sender._idle(self)
        else:  # the server asked to close (Connection: close)
            self.transport.close()  # type: ignore[union-attr]
        if request is not None:
            request.respond(response)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()
        request, self.request = self.request, None
        self.sender._lost(self)
        if request is not None:
            request.fail()


class LoopSender:
    def __init__(self, url: str, *, ssl_context: ssl.SSLContext | None = None, max_connections: int = 2,
                 max_queued: int = 64, timeout: float = 5.0, backoff: float = 5.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"LoopSender: expected an http(s) URL, got {url!r}")
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.host_header = parts.netloc.rpartition("@")[2]
        self.target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.ssl = (ssl_context or ssl.create_default_context()) if parts.scheme == "https" else None
        self.max_connections = max_connections
        self.max_queued = max_queued
        self.timeout = timeout
        self.backoff = backoff
        self.loop: asyncio.AbstractEventLoop | None = None
        self._queue: collections.deque[Request] = collections.deque()
        self._idle_connections: list[_Connection] = []
        self._busy: set[_Connection] = set()
        self._opening = 0
        self._down_until = 0.0
        self._drained: asyncio.Event | None = None

    def _running_loop(self) -> asyncio.AbstractEventLoop | None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        if loop is not self.loop:
            if self.loop is not None and self.loop.is_running():
                return None  # another thread's loop: the sender stays with its own, the caller uses its thread
            self.abandon()  # first use, or the first loop has stopped (a test's): its work goes back
            self.loop = loop
            self._drained = None
        return loop

    def accepting(self) -> bool:
        """True when a `submit` now would be taken: on the event loop, not backing off, queue not full.
        Transports ask before they prepare an envelope, so a refused one is prepared once, the SDK's way."""
        return (self._running_loop() is not None and len(self._queue) < self.max_queued
                and (not self._down_until or time.monotonic() >= self._down_until))

    def submit(self, body: bytes, headers: list[tuple[str, str]], on_response: Callable[[Response], None],
               on_failure: Callable[[], None]) -> bool:
        if not self.accepting():
            return False
        self._down_until = 0.0
        self._queue.append(Request(body, headers, on_response, on_failure))
        self._pump()
        return True

    def back_off(self) -> None:
        self._down_until = time.monotonic() + self.backoff

    def pending(self) -> int:
        return len(self._queue) + len(self._busy)

    def _pump(self) -> None:
        while self._queue and self._idle_connections:
            connection = self._idle_connections.pop()
            self._busy.add(connection)
            connection.send(self._queue.popleft())
        if self._queue and len(self._busy) + self._opening < self.max_connections:
            self._opening += 1
            self.loop.create_task(self._open())  # type: ignore[union-attr]
        self._maybe_drained()

    async def _open(self) -> None:
        loop = self.loop
        try:
            await asyncio.wait_for(loop.create_connection(  # type: ignore[union-attr]
                lambda: _Connection(self), self.host, self.port, ssl=self.ssl,
                server_hostname=self.host if self.ssl else None), self.timeout)
        except Exception:  # refused, unreachable, TLS, timeout: the caller's thread path takes over
            if loop is self.loop:
                self._opening -= 1
                self.back_off()
                self._fail_queued()
            return
        if loop is self.loop:  # connection_made has registered the connection and sent what was queued
            self._opening -= 1
            self._pump()  # the connection may have been answered and closed while this task waited

    def _idle(self, connection: _Connection) -> None:
        self._busy.discard(connection)
        self._idle_connections.append(connection)
        self._pump()

    def _lost(self, connection: _Connection) -> None:
        self._busy.discard(connection)
        with contextlib.suppress(ValueError):
            self._idle_connections.remove(connection)
        self._pump()  # what is queued gets another connection

    def _fail_queued(self) -> None:
        queued, self._queue = self._queue, collections.deque()
        for request in queued:
            request.fail()
        self._maybe_drained()

    def _maybe_drained(self) -> None:
        if self._drained is not None and not self._queue and not self._busy:
            self._drained.set()

    async def drain(self, timeout: float) -> None:
        """Wait (at shutdown, on the loop) until everything accepted has been answered or handed back."""
        if self._running_loop() is None or not self.pending():
            return
        self._drained = asyncio.Event()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._drained.wait(), timeout)
        self._drained = None

    def abandon(self) -> None:
        """Hand every queued and in-flight request back (their on_failure) and drop the connections."""
        busy, self._busy = self._busy, set()
        idle, self._idle_connections = self._idle_connections, []
        for connection in [*busy, *idle]:
            request, connection.request = connection.request, None
            with contextlib.suppress(Exception):  # the loop may be closed already
                if connection.timer is not None:
                    connection.timer.cancel()
                if request is None:
                    connection.transport.close()  # type: ignore[union-attr]
                else:
                    connection.transport.abort()  # type: ignore[union-attr]
            if request is not None:
                request.fail()
        self._opening = 0
        self._fail_queued()
