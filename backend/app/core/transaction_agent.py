"""The transaction agent: a worker's child process that finishes its sampled transactions.

    python -m app.core.transaction_agent FD      (started by app/core/transaction_handoff.py)

Reads events from the socket FD (one pickled event per message, their scopes already applied in
the worker) and hands each to sentry-sdk's client as the worker would have: `capture_event`
without a scope runs the rest of the SDK's preparation (the EventScrubber, the serializer,
before_send_transaction) and sends the envelope through the same transport the worker's options
name (Sentry with a DSN, else Spotlight). The options are the worker's (`init_sentry` with the
worker's settings, the socket's first message), so the envelope is the one the worker
would have sent. When the socket ends (the worker closed it or exited) it flushes its transport
and exits. Unpickling is safe here only because the socket is an unnamed pair whose other end is
the parent worker; the agent never listens anywhere.
"""

from __future__ import annotations

import logging
import pickle
import signal
import socket
import sys

import sentry_sdk

from app.core.config import Settings
from app.core.logging import configure_logging
from app.core.sentry import init_sentry

MAX_MESSAGE_BYTES = 8 << 20  # larger than any send buffer the worker can have
FLUSH_SECONDS = 2.0

logger = logging.getLogger("app.core.transaction_agent")


def serve(sock: socket.socket) -> int:
    """Finish every event read from `sock` until it ends; how many."""
    client = sentry_sdk.get_client()
    finished = 0
    while True:
        data = sock.recv(MAX_MESSAGE_BYTES)
        if not data:
            return finished
        try:
            client.capture_event(pickle.loads(data), None, None)
            finished += 1
        except Exception:  # one bad event must not stop the next
            logger.exception("transaction agent could not finish an event")


def main(argv: list[str]) -> int:
    # The agent's life is its socket's: it ends when the worker closes it or exits, after what it has
    # read is sent. A terminal's Ctrl-C or a group-wide SIGTERM would otherwise drop what is queued.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sock = socket.socket(fileno=int(argv[1]))
    settings = Settings.model_validate_json(sock.recv(MAX_MESSAGE_BYTES))  # the worker's, its first message
    configure_logging(settings.LOG_LEVEL)
    init_sentry(settings, agent=True)
    try:
        serve(sock)
    finally:
        sock.close()
        sentry_sdk.get_client().close(timeout=FLUSH_SECONDS)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
