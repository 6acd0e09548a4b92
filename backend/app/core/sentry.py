"""Sentry for the backend: errors always, traces sampled, nothing personal ever leaves the process.

- Integrations are listed explicitly (Httpx, plus Sqlalchemy and Redis when SENTRY_DB_SPANS=true,
  plus the few defaults we want)
  with `default_integrations=False` and `auto_enabling_integrations=False`: the auto-enabled
  asyncpg/stdlib integrations cost on every DB request even unsampled. The Starlette/FastApi
  integrations are NOT enabled: they wrap *every* request and cost more than the whole rest of
  our instrumentation. The request middleware instead runs only the sampled requests through
  sentry-sdk's own SentryAsgiMiddleware (what those integrations install) and captures unhandled
  exceptions itself, so a request that is not traced and raises nothing pays almost nothing for
  Sentry (measured: docs/benchmarks.md).
- `send_default_pii=False`, request bodies never attached, local variables never attached (a
  handler's locals hold request payloads whose repr contains passwords), and the client's
  `event_scrubber` is sentry_sdk's EventScrubber with our extended denylist. `before_send` adds
  what EventScrubber cannot do: e-mail addresses and bearer tokens removed by pattern from every
  string (messages, exception values, breadcrumbs), the request ID tag and the user ID (never the
  e-mail) from app/core/correlation.py.
- `traces_sampler` never samples /health, /ready, /metrics or the RUM beacon; otherwise it follows
  an upstream decision (the browser's) or SENTRY_TRACES_SAMPLE_RATE.
- Without SENTRY_DSN events go to a Spotlight sidecar. We do not use the SDK's `spotlight=` option
  for that: in DSN-less mode (sentry-sdk 2.75, client._init_impl) it forces send_default_pii=True
  and samples 100% of errors, traces and profiles, and posts each envelope synchronously on the
  calling thread (the event loop). SpotlightTransport reuses the SDK's SpotlightClient from the
  SDK's BackgroundWorker thread instead, with our options left intact.
"""

from __future__ import annotations

import logging
import random
from typing import Any

import sentry_sdk
import urllib3
from sentry_sdk.integrations.atexit import AtexitIntegration
from sentry_sdk.integrations.dedupe import DedupeIntegration
from sentry_sdk.integrations.excepthook import ExcepthookIntegration
from sentry_sdk.integrations.httpx import HttpxIntegration
from sentry_sdk.integrations.logging import LoggingIntegration
from sentry_sdk.integrations.redis import RedisIntegration
from sentry_sdk.integrations.sqlalchemy import SqlalchemyIntegration
from sentry_sdk.scrubber import DEFAULT_DENYLIST, DEFAULT_PII_DENYLIST, EventScrubber
from sentry_sdk.spotlight import SpotlightClient
from sentry_sdk.transport import Transport
from sentry_sdk.worker import BackgroundWorker

from app.core import correlation
from app.core.config import Settings
from app.core.logging import scrub_text

UNSAMPLED_PATHS = frozenset({"/health", "/ready", "/metrics", "/api/rum/vitals"})

# Our extension of sentry_sdk's denylists (keys are compared lower-cased, exact match).
EXTRA_DENYLIST = [
    "password", "new_password", "old_password", "password_hash", "token", "access_token", "refresh_token",
    "id_token", "session_token", "ns_session", "session_id", "sessionid", "cookie", "cookies",
    "authorization", "x-api-key", "api-key", "email", "e-mail", "email_address", "mixpanel_token",
    "card_number", "cvc",
]


class SpotlightTransport(Transport):
    """Local-only transport: envelopes to Spotlight's /stream, off the request path."""

    def __init__(self, url: str) -> None:
        super().__init__(None)
        self.url = url
        self._client = SpotlightClient(url)
        self._client.http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=1.0, read=2.0), retries=False)
        self._worker = BackgroundWorker(queue_size=200)

    def capture_envelope(self, envelope: Any) -> None:
        self._worker.submit(lambda: self._client.capture_envelope(envelope))

    def flush(self, timeout: float, callback: Any = None) -> None:
        self._worker.flush(timeout, callback)

    def kill(self) -> None:
        self._worker.kill()


def make_event_scrubber() -> EventScrubber:
    denylist = list(dict.fromkeys([*DEFAULT_DENYLIST, *EXTRA_DENYLIST]))
    return EventScrubber(denylist=denylist, recursive=True, pii_denylist=list(DEFAULT_PII_DENYLIST))


def _scrub_strings(value: Any) -> Any:
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        for k, v in value.items():
            value[k] = _scrub_strings(v)
        return value
    if isinstance(value, list):
        for i, v in enumerate(value):
            value[i] = _scrub_strings(v)
        return value
    return value


def _tag_and_scrub(event: dict[str, Any]) -> dict[str, Any]:
    ctx = correlation.current()
    if ctx is not None:
        event.setdefault("tags", {})["request_id"] = ctx.request_id
        if ctx.user_id is not None:
            event["user"] = {"id": ctx.user_id}
    user = event.get("user")
    if isinstance(user, dict):
        # Only the opaque ID may identify a user.
        event["user"] = {"id": user["id"]} if "id" in user else {}
    for key in ("message", "logentry", "exception", "breadcrumbs", "extra", "tags", "request", "contexts"):
        if key in event:
            event[key] = _scrub_strings(event[key])
    return event


def before_send(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any] | None:
    return _tag_and_scrub(event)


def before_send_transaction(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any] | None:
    return _tag_and_scrub(event)


TRACED_SCOPE_KEY = "northstar.traced"


def make_traces_sampler(rate: float):  # noqa: ANN201
    def traces_sampler(sampling_context: dict[str, Any]) -> float:
        asgi_scope = sampling_context.get("asgi_scope")
        if asgi_scope is not None:
            if asgi_scope.get("path") in UNSAMPLED_PATHS:
                return 0.0
            if TRACED_SCOPE_KEY in asgi_scope:  # decided up front by the observability middleware
                return 1.0 if asgi_scope[TRACED_SCOPE_KEY] else 0.0
        parent = sampling_context.get("parent_sampled")
        if parent is not None:
            return 1.0 if parent else 0.0
        return rate

    return traces_sampler


class RequestSampler:
    """The per-request tracing decision, taken before any Sentry machinery runs: never for
    health/metrics/RUM paths, the upstream decision when the browser sent `sentry-trace`,
    else SENTRY_TRACES_SAMPLE_RATE."""

    def __init__(self, rate: float) -> None:
        self.rate = rate

    def __call__(self, scope: dict[str, Any]) -> tuple[bool, str | None]:
        """(traced, upstream trace id)"""
        upstream: bytes | None = None
        for name, value in scope["headers"]:
            if name == b"sentry-trace":
                upstream = value
                break
        trace_id = None
        decision: bool | None = None
        if upstream is not None:
            parts = upstream.split(b"-")
            if len(parts[0]) == 32:
                trace_id = parts[0].decode("ascii", "replace")
            if len(parts) >= 3:
                decision = parts[2] == b"1"
        if scope["path"] in UNSAMPLED_PATHS or self.rate <= 0 and decision is None:
            return False, trace_id
        if decision is None:
            decision = random.random() < self.rate
        return decision, trace_id


def build_options(settings: Settings, transport: Transport | None = None) -> dict[str, Any]:
    # Sqlalchemy/Redis integrations add a breadcrumb and a span per statement/command even when no
    # transaction is sampled (costly, docs/benchmarks.md). Opt in with SENTRY_DB_SPANS.
    db_integrations = [SqlalchemyIntegration(), RedisIntegration()] if settings.SENTRY_DB_SPANS else []
    options: dict[str, Any] = dict(
        dsn=settings.SENTRY_DSN or None,
        environment=settings.ENVIRONMENT,
        release=settings.GIT_SHA,
        traces_sampler=make_traces_sampler(settings.SENTRY_TRACES_SAMPLE_RATE),
        profiles_sample_rate=settings.SENTRY_PROFILES_SAMPLE_RATE,
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        event_scrubber=make_event_scrubber(),
        before_send=before_send,
        before_send_transaction=before_send_transaction,
        default_integrations=False,
        auto_enabling_integrations=False,
        integrations=[
            *db_integrations,
            HttpxIntegration(),
            # Warnings from stdlib loggers become breadcrumbs; errors are captured explicitly.
            LoggingIntegration(level=logging.WARNING, event_level=None),
            AtexitIntegration(),
            DedupeIntegration(),
            ExcepthookIntegration(),
        ],
        spotlight=False,
        max_breadcrumbs=30,
    )
    if transport is not None:
        options["transport"] = transport
    elif not settings.SENTRY_DSN and settings.SENTRY_SPOTLIGHT_URL:
        options["transport"] = SpotlightTransport(settings.SENTRY_SPOTLIGHT_URL)
    return options


def init_sentry(settings: Settings, transport: Transport | None = None) -> None:
    """Call once per process, before the app is created (the integrations patch Starlette)."""
    sentry_sdk.init(**build_options(settings, transport))


def capture_upstream_failure(exc: BaseException, upstream: str) -> None:
    """Upstream timeouts/errors (billing) are handled (a 502/504 is returned) but still reported."""
    with sentry_sdk.new_scope() as scope:
        scope.set_tag("upstream", upstream)
        scope.fingerprint = ["upstream", upstream, type(exc).__name__]
        sentry_sdk.capture_exception(exc)


