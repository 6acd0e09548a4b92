"""Where the backend's Sentry envelopes go: Sentry (a DSN) or the local Spotlight sidecar (none).

Both transports send an envelope captured on the event loop (every transaction, and the errors of
requests) from the loop itself, through app/core/loop_sender.py, and everything else the SDK's
way, from its BackgroundWorker thread: envelopes captured in another thread or after the loop has
stopped, those the loop sender refuses (queue full, backing off after a failure) and those it hands
back after accepting them (connection lost, timeout, shutdown). Why the loop: the thread's
contention for the GIL cost the event loop more than the sending itself (docs/benchmarks.md).

- LoopHttpTransport is sentry-sdk's HttpTransport (rate limits, client reports, compression, the
  auth header, all its own code) with the POST written from the loop when it can be. With an HTTP(S)
  proxy configured (options or environment) it is plain HttpTransport: the loop sender speaks only
  directly to the DSN's host.
- SpotlightTransport posts to Spotlight's /stream. We do not use the SDK's `spotlight=` option: in
  DSN-less mode (sentry-sdk 2.75, client._init_impl) it forces send_default_pii=True, samples 100% of
  errors, traces and profiles, and posts each envelope synchronously on the calling thread. Its thread
  path is the SDK's SpotlightClient on the SDK's BackgroundWorker.
"""

from __future__ import annotations

import io
import logging
from typing import Any

import urllib3
from sentry_sdk.consts import EndpointType
from sentry_sdk.envelope import Envelope
from sentry_sdk.spotlight import SpotlightClient
from sentry_sdk.transport import HttpTransport, Transport
from sentry_sdk.utils import capture_internal_exceptions
from sentry_sdk.worker import BackgroundWorker

from app.core.loop_sender import LoopSender, Response


class LoopHttpTransport(HttpTransport):
    def __init__(self, options: dict[str, Any]) -> None:
        super().__init__(options)
        self.loop_sender: LoopSender | None = None
        if self._resolve_proxy():
            return
        try:  # the SDK's TLS context (CA bundle, client certificate) from its httpcore options
            self.loop_sender = LoopSender(self._auth.get_api_url(EndpointType.ENVELOPE),
                                          ssl_context=self._get_httpcore_pool_options()["ssl_context"],
                                          timeout=self.TIMEOUT)
        except Exception:  # a private API of sentry-sdk 2.75 changed: the SDK's thread sends everything
            logging.getLogger(__name__).warning("Sentry envelopes go by the SDK's thread only", exc_info=True)

    def _get_header_value(self, response: Any, header: str) -> str | None:
        if isinstance(response, Response):
            return response.headers.get(header.lower())
        return super()._get_header_value(response, header)

    def capture_envelope(self, envelope: Envelope) -> None:
        sender = self.loop_sender
        if sender is None or not sender.accepting():
            super().capture_envelope(envelope)
            return
        with capture_internal_exceptions():
            prepared = self._prepare_envelope(envelope)  # rate limits, client report, compression
            if prepared is None:
                return
            envelope, body_io, headers = prepared
            self._update_headers(headers)
            body = body_io.getvalue()

            def on_response(response: Response) -> None:
                with capture_internal_exceptions():
                    self._handle_response(response=response, envelope=envelope)

            def on_failure() -> None:  # the SDK's way, queue overflow and losses recorded as it does
                HttpTransport.capture_envelope(self, envelope)

            sender.submit(body, list(headers.items()), on_response, on_failure)

    def flush(self, timeout: float, callback: Any = None) -> None:
        if self.loop_sender is not None:
            self.loop_sender.abandon()  # what the loop has not sent goes to the thread, flushed below
        super().flush(timeout, callback)

    def kill(self) -> None:
        if self.loop_sender is not None:
            self.loop_sender.abandon()
        super().kill()


class SpotlightTransport(Transport):
    """Local-only transport: envelopes to Spotlight's /stream, off the request path."""

    def __init__(self, url: str) -> None:
        super().__init__(None)
        self.url = url
        self._client = SpotlightClient(url)
        self._client.http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=1.0, read=2.0), retries=False)
        self._worker = BackgroundWorker(queue_size=200)
        self.loop_sender = LoopSender(url, timeout=2.0)

    def capture_envelope(self, envelope: Envelope) -> None:
        if self.loop_sender.accepting():
            body = io.BytesIO()
            envelope.serialize_into(body)
            if self.loop_sender.submit(body.getvalue(), [("Content-Type", "application/x-sentry-envelope")],
                                       on_response=lambda response: None,
                                       on_failure=lambda: self._send_by_thread(envelope)):
                return
        self._send_by_thread(envelope)

    def _send_by_thread(self, envelope: Envelope) -> None:
        self._worker.submit(lambda: self._client.capture_envelope(envelope))

    def flush(self, timeout: float, callback: Any = None) -> None:
        self.loop_sender.abandon()
        self._worker.flush(timeout, callback)

    def kill(self) -> None:
        self.loop_sender.abandon()
        self._worker.kill()


async def drain_loop_senders(client: Any, timeout: float) -> None:
    """At shutdown, on the loop: wait until the loop sender's accepted envelopes are answered."""
    sender = getattr(getattr(client, "transport", None), "loop_sender", None)
    if sender is not None:
        await sender.drain(timeout)
