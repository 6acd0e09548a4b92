"""A sampled transaction's event handed to an agent process beside the worker, which scrubs,
serializes and sends it; the worker keeps only the part that needs the request.

Why: once a sampled request has made its spans, sentry-sdk's finish of its transaction (the
scrubber, the serializer, before_send_transaction, the envelope and its POST) is most of what the
sampled request costs the worker (docs/benchmarks.md, "The transaction agent"), and the worker's
one event loop runs it between requests. None of it needs the request any more. The part that
does, the scopes applied to the event (the request data, the tags, the trace context:
`Scope.apply_to_event`) and the request ID and user ID from the request's context
(`before_handoff`), stays in the worker; the event is then pickled and written to
the agent, which calls the same SDK client method the worker would have called next
(`capture_event` without a scope: the rest of `_prepare_event`, the envelope, the transport).
The envelope is the one the worker would have sent; only the process that builds it differs.

`HandoffClient` is sentry-sdk's client with that split in `capture_event`; app/core/sentry.py's
`init_sentry` makes it the process's client. `TransactionAgent.start` (the app's lifespan, in every
worker after it has forked) starts app/core/transaction_agent.py as a child process joined by an
unnamed AF_UNIX socket pair (SOCK_SEQPACKET: one message per event, whole or not at all, and the
end of the peer is seen). What crosses it is the event before the scrubbing, so it never leaves
the worker's own child; nothing else can open that socket.

Nothing is dropped on the way. The worker runs the rest itself, as without an agent, when:
- the event is not a plain transaction: an error, a transaction with a profile, dropped spans,
  truncated breadcrumbs, a session or gen-AI spans (the SDK's accounting for them needs the scope),
  or an event that does not pickle;
- the agent is busy: the socket's buffer is full (`send` would block), so backpressure costs the
  worker what it cost before, never a lost event or a blocked event loop;
- the agent is gone (crashed, killed): from then on, and a new agent is started after
  RESTART_SECONDS.
At shutdown `close()` ends the socket; the agent sends what it has read, flushes its transport
and exits, and the worker waits for it up to `timeout`.

Written by hand: sentry-sdk has no hook between applying the scope and preparing the envelope,
and Sentry's own answer to this (Relay, the OpenTelemetry Collector) is a separate service that
does not take sentry-sdk's unscrubbed events. The split calls sentry-sdk 2.76's `_Client`
methods; tests/test_transaction_handoff.py compares what reaches a Sentry stand-in both ways.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sentry_sdk.client import _Client

logger = logging.getLogger(__name__)

RESTART_SECONDS = 30.0
SEND_BUFFER_BYTES = 1 << 20  # the kernel caps it at net.core.wmem_max; ≈ 150 events of ≈ 6 KB at 1 MiB
_BACKEND = Path(__file__).resolve().parents[2]  # where `python -m app.core.transaction_agent` imports from


def plain_transaction(event: dict[str, Any], hint: Any, scope: Any) -> bool:
    """A transaction whose preparation after the scope needs nothing from the scope or the hint
    (what the agent can finish); everything else stays on the SDK's own path."""
    return (event.get("type") == "transaction" and scope is not None and not hint
            and "profile" not in event and "_dropped_spans" not in event and not event.get("_has_gen_ai_span")
            and not scope._n_breadcrumbs_truncated and not scope._gen_ai_original_message_count
            and scope._session is None)


class HandoffClient(_Client):
    """sentry-sdk's client; a plain transaction's event goes to `agent` once its scope is applied."""

    agent: TransactionAgent | None = None
    agent_settings: str | None = None  # the settings an agent is started with (init_sentry); None: no agent
    # What of before_send_transaction needs the request's context (its request ID, its user), run
    # here before the handoff; the agent runs all of it again, where that context is absent.
    before_handoff: Callable[[dict[str, Any]], object] | None = None

    def capture_event(self, event: Any, hint: Any = None, scope: Any = None) -> str | None:
        agent = self.agent
        if agent is None or not plain_transaction(event, hint, scope):
            return super().capture_event(event, hint, scope)
        event.pop("_has_gen_ai_span", None)
        if event.get("event_id") is None:
            event["event_id"] = uuid.uuid4().hex
        spans_before = len(event.get("spans", ()))
        prepared = scope.apply_to_event(event, {}, self.options)  # the request's part, here
        if prepared is None:  # an event processor dropped it: the SDK's accounting, as _prepare_event does
            if self.transport:
                self.transport.record_lost_event("event_processor", data_category="transaction")
                self.transport.record_lost_event("event_processor", data_category="span", quantity=spans_before + 1)
            return None
        dropped = spans_before - len(prepared.get("spans", ()))
        if dropped > 0 and self.transport:
            self.transport.record_lost_event("event_processor", data_category="span", quantity=dropped)
        if self.before_handoff is not None:
            self.before_handoff(prepared)
        if not agent.send(prepared):
            super().capture_event(prepared, None, None)  # the rest, here: what the agent would have run
        return prepared["event_id"]


class TransactionAgent:
    """The worker's end: the agent process and the socket to it."""

    def __init__(self, settings_json: str) -> None:
        self.settings_json = settings_json
        self.sock: socket.socket | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.retry_at = 0.0
        self.sent = 0  # handed to the agent
        self.kept = 0  # finished in the worker: agent busy, gone or event unpicklable

    @classmethod
    def start(cls, settings_json: str) -> TransactionAgent:
        agent = cls(settings_json)
        agent._spawn()
        return agent

    def _spawn(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)
            ours.setblocking(False)
            env = {**os.environ,
                   "PYTHONPATH": os.pathsep.join(filter(None, (str(_BACKEND), os.environ.get("PYTHONPATH"))))}
            env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # the agent serves no metrics; its files would be a worker's
            ours.send(self.settings_json.encode())  # the first message: its settings (not in its environment)
            self.process = subprocess.Popen(
                [sys.executable, "-m", "app.core.transaction_agent", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),), env=env, stdin=subprocess.DEVNULL)
        except OSError:
            ours.close()
            logger.warning("transaction agent did not start; sampled transactions are finished in the worker",
                           exc_info=True)
            self.retry_at = time.monotonic() + RESTART_SECONDS
            return
        finally:
            theirs.close()
        self.sock = ours

    def send(self, event: dict[str, Any]) -> bool:
        """True if the agent took the event; False and the caller finishes it."""
        sock = self.sock
        if sock is None:
            if self.process is None or time.monotonic() < self.retry_at:
                self.kept += 1
                return False
            self._spawn()
            sock = self.sock
            if sock is None:
                self.kept += 1
                return False
        try:
            data = pickle.dumps(event, protocol=pickle.HIGHEST_PROTOCOL)
            sock.send(data)
        except (BlockingIOError, InterruptedError):  # the agent is behind: its buffer is full
            self.kept += 1
            return False
        except OSError:  # EPIPE, ECONNRESET (the agent is gone), EMSGSIZE (an event over the buffer)
            self._lost(sock)
            self.kept += 1
            return False
        except Exception:  # an event that does not pickle
            self.kept += 1
            return False
        self.sent += 1
        return True

    def _lost(self, sock: socket.socket) -> None:
        if self.process is not None and self.process.poll() is None:
            return  # alive: the message alone did not fit
        logger.warning("transaction agent exited (%s); sampled transactions are finished in the worker, "
                       "a new agent in %.0f s", self.process.returncode if self.process else None, RESTART_SECONDS)
        sock.close()
        self.sock = None
        self.retry_at = time.monotonic() + RESTART_SECONDS

    def close(self, timeout: float = 2.0) -> None:
        """End the socket and wait for the agent to send what it has read and exit."""
        sock, self.sock = self.sock, None
        if sock is not None:
            sock.close()
        process, self.process = self.process, None
        if process is None:
            return
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            logger.warning("transaction agent did not exit within %.1f s; killed", timeout)
            process.kill()  # it ignores SIGTERM (app/core/transaction_agent.py)
            process.wait()


@contextlib.contextmanager
def agent_running(client: Any, timeout: float = 2.0) -> Iterator[TransactionAgent | None]:
    """The block with `client`'s transaction agent (if it is a HandoffClient meant to have one),
    stopped after it: the client finishes in the worker again, then the agent drains and exits."""
    if not isinstance(client, HandoffClient) or not client.agent_settings:
        yield None
        return
    agent = client.agent = TransactionAgent.start(client.agent_settings)
    try:
        yield agent
    finally:
        client.agent = None
        agent.close(timeout)
