"""Sentry for the backend: errors always, traces sampled, nothing personal ever leaves the process
(but for the worker's own transaction agent, its child, which scrubs with these same options).

- Integrations are listed explicitly (Httpx plus the few defaults we want) with
  `default_integrations=False` and `auto_enabling_integrations=False`: the auto-enabled
  asyncpg/stdlib integrations cost on every DB request even unsampled, and so do the Sqlalchemy
  and Redis integrations (a breadcrumb and a span per statement/command, traced or not). DB and
  Redis spans come from app/core/trace_spans.py instead, made only inside sampled transactions. The Starlette/FastApi
  integrations are NOT enabled: they wrap *every* request and cost more than the whole rest of
  our instrumentation. The request middleware instead starts a transaction only for the sampled
  requests (app/core/sampled_transaction.py: what is left of what those integrations' ASGI
  middleware does once the request middleware has forked the scopes and continued the trace) and
  captures unhandled exceptions itself, so a request that is not traced and raises nothing pays almost nothing for
  Sentry (measured: docs/benchmarks.md).
- `send_default_pii=False`, request bodies never attached, local variables never attached (a
  handler's locals hold request payloads whose repr contains passwords), and the client's
  `event_scrubber` is sentry_sdk's EventScrubber with our extended denylist (AppEventScrubber: it
  skips only our own DB/Redis spans, whose data keys app/core/trace_spans.py checked against an
  allowlist before the scrubber runs). `before_send` adds
  what EventScrubber cannot do: e-mail addresses and bearer tokens removed by pattern from every
  string (messages, exception values, breadcrumbs), the request ID tag and the user ID (never the
  e-mail) from app/core/correlation.py.
- The request of an event (sampled requests only; errors of unsampled ones carry method and path)
  keeps an allowlist of headers (REQUEST_HEADER_ALLOWLIST), `baggage` reduced to Sentry's own
  `sentry-*` items, and the query string and Referer with the value of every denylisted key (the
  same denylist as bodies) filtered and e-mails removed. sentry-sdk's `data_collection` option
  offers header/query allowlists too, but setting it switches the event_scrubber off
  (client._get_options), so the same is done here in before_send.
- `traces_sampler` never samples /health, /ready, /metrics or the RUM beacon; otherwise it follows
  the upstream decision in `sentry-trace` only for requests from our own web app (through the
  trusted proxy, app/core/client_address.py), else SENTRY_TRACES_SAMPLE_RATE: a client cannot
  force its requests to be traced. Third-party `baggage` items never enter the trace. The trace's
  dynamic sampling context says what decided it (report_head_sampling, traces_sampler): the web
  app's rate and sample_rand for its decisions, the rate in force and the draw below it for ours,
  never the forced 1.0 the SDK is handed (Sentry extrapolates counts by 1 / sample_rate). The rate
  in force is SENTRY_TRACES_SAMPLE_RATE, lowered while this worker's requests arrive faster than
  SENTRY_TRACES_MAX_PER_SECOND allows (app/core/trace_budget.py).
- Transactions are serialized by app/core/transaction_serializer.py's short walk (the SDK's
  serializer's output, ≈ 0.4 ms less per sampled transaction); with a DSN envelopes are compressed
  with brotli quality 1 (a quarter of the SDK's default quality 4's CPU, ≈ 10% more bytes).
- A sampled transaction is scrubbed, serialized and sent by the worker's transaction agent, a
  child process (app/core/transaction_handoff.py; SENTRY_TRANSACTION_AGENT); the worker keeps the
  scopes and the request's tags (`tag_from_request`).
- With SENTRY_DSN events go to Sentry through sentry-sdk's HttpTransport (LoopHttpTransport),
  without it to a Spotlight sidecar (SpotlightTransport); both send what the event loop captures
  from the loop itself, not from the SDK's worker thread, whose contention for the GIL cost the
  loop more than the sending (app/core/sentry_transports.py).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from contextvars import Token
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

import sentry_sdk
from sentry_sdk.integrations.atexit import AtexitIntegration
from sentry_sdk.integrations.dedupe import DedupeIntegration
from sentry_sdk.integrations.excepthook import ExcepthookIntegration
from sentry_sdk.integrations.httpx import HttpxIntegration
from sentry_sdk.integrations.logging import LoggingIntegration
from sentry_sdk.scope import Scope
from sentry_sdk.scope import _current_scope as _current_scope_var
from sentry_sdk.scope import _isolation_scope as _isolation_scope_var
from sentry_sdk.scrubber import DEFAULT_DENYLIST, DEFAULT_PII_DENYLIST, EventScrubber
from sentry_sdk.transport import Transport
from sentry_sdk.utils import capture_internal_exceptions
from sentry_sdk.utils import logger as sdk_logger

from app.core import correlation, product
from app.core.client_address import VIA_TRUSTED_PROXY
from app.core.config import Settings
from app.core.logging import scrub_text
from app.core.sentry_transports import LoopHttpTransport, SpotlightTransport
from app.core.trace_budget import TraceBudget
from app.core.trace_spans import SerializedSpan, TraceSpansIntegration
from app.core.transaction_handoff import HandoffClient
from app.core.transaction_serializer import TransactionSerializerIntegration

UNSAMPLED_PATHS = frozenset({"/health", "/ready", "/metrics", "/api/rum/vitals"})

# Our extension of sentry_sdk's denylists (keys are compared lower-cased, exact match).
EXTRA_DENYLIST = [
    "password", "new_password", "old_password", "password_hash", "token", "access_token", "refresh_token",
    "id_token", "session_token", product.SESSION_COOKIE, "session_id", "sessionid", "cookie", "cookies",
    "authorization", "x-api-key", "api-key", "email", "e-mail", "email_address", "mixpanel_token",
    "card_number", "cvc",
]


DENYLIST = list(dict.fromkeys([*DEFAULT_DENYLIST, *EXTRA_DENYLIST]))
_DENIED_KEYS = frozenset(k.lower() for k in [*DENYLIST, *DEFAULT_PII_DENYLIST])
FILTERED = "[Filtered]"

# The only request headers an event may carry (anything else, e.g. X-Auth-Token or a custom
# header, is dropped with its name). Referer and baggage are scrubbed, see scrub_request.
REQUEST_HEADER_ALLOWLIST = frozenset({
    "accept", "accept-encoding", "accept-language", "content-length", "content-type", "host", "origin",
    "referer", "user-agent", "x-request-id", "sentry-trace", "baggage",
    "sec-fetch-dest", "sec-fetch-mode", "sec-fetch-site",
})


class AppEventScrubber(EventScrubber):
    """sentry_sdk's EventScrubber, except for the spans app/core/trace_spans.py already checked by
    key (SerializedSpan: fixed data keys, none of them denylisted; ≈ 40 calls per span saved)."""

    def scrub_spans(self, event: Any) -> None:
        spans = event.get("spans")
        if type(spans) is not list:
            super().scrub_spans(event)
            return
        with capture_internal_exceptions():
            for span in spans:
                if not isinstance(span, SerializedSpan) and "data" in span:
                    self.scrub_dict(span["data"])


def make_event_scrubber() -> EventScrubber:
    return AppEventScrubber(denylist=DENYLIST, recursive=True, pii_denylist=list(DEFAULT_PII_DENYLIST))


def scrub_query(query: str) -> str:
    """The value of every denylisted key filtered, e-mails removed from the others."""
    pairs = parse_qsl(query, keep_blank_values=True)
    return "&".join(
        f"{quote(scrub_text(k), safe='')}="
        + (FILTERED if k.strip().lower() in _DENIED_KEYS else quote(scrub_text(v), safe="[]@"))
        for k, v in pairs
    )


def scrub_url(url: str) -> str:
    """A URL (Referer, span/breadcrumb URL) with its query scrubbed and its fragment dropped."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return FILTERED
    query = scrub_query(parts.query) if parts.query else ""
    return scrub_text(urlunsplit((parts.scheme, parts.netloc, parts.path, query, "")))


def sentry_baggage(value: str, *, keep_decision: bool = True) -> str:
    """Only Sentry's own baggage items; without the upstream sampling decision if not keep_decision."""
    items = []
    for item in value.split(","):
        key = item.split("=", 1)[0].strip()
        if not key.startswith("sentry-"):
            continue
        if not keep_decision and key in ("sentry-sampled", "sentry-sample_rand", "sentry-sample_rate"):
            continue
        items.append(item.strip())
    return ",".join(items)


def scrub_request(request: dict[str, Any]) -> None:
    headers = request.get("headers")
    if isinstance(headers, dict):
        kept: dict[str, Any] = {}
        for name, value in headers.items():
            lowered = name.lower() if isinstance(name, str) else ""
            if lowered not in REQUEST_HEADER_ALLOWLIST or not isinstance(value, str):
                continue
            if lowered == "referer":
                value = scrub_url(value)
            elif lowered == "baggage":
                value = sentry_baggage(value)
                if not value:
                    continue
            kept[name] = value
        request["headers"] = kept
    if request.get("query_string"):
        ctx = correlation.current()
        raw = ctx.raw_query_string if ctx is not None else None
        query = raw.decode("latin-1") if isinstance(raw, bytes) else str(request["query_string"])
        request["query_string"] = scrub_query(query)
    if isinstance(request.get("url"), str):
        request["url"] = scrub_url(request["url"])
    for key in ("cookies", "data", "env"):
        request.pop(key, None)


def _scrub_urls_in(data: Any) -> None:
    """Span and breadcrumb data of outgoing HTTP calls (httpx integration): url and http.query."""
    if not isinstance(data, dict):
        return
    if isinstance(data.get("url"), str):
        data["url"] = scrub_url(data["url"])
    if isinstance(data.get("http.query"), str):
        data["http.query"] = scrub_query(data["http.query"])


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


def tag_from_request(event: dict[str, Any]) -> dict[str, Any]:
    """The request ID tag and the user ID of the request being served (app/core/correlation.py): the
    part of before_send that needs the request's context, so a transaction agent's worker runs it
    before the handoff (app/core/transaction_handoff.py)."""
    ctx = correlation.current()
    if ctx is not None:
        event.setdefault("tags", {})["request_id"] = ctx.request_id
        if ctx.user_id is not None:
            event["user"] = {"id": ctx.user_id}
    return event


def _tag_and_scrub(event: dict[str, Any]) -> dict[str, Any]:
    tag_from_request(event)
    user = event.get("user")
    if isinstance(user, dict):
        # Only the opaque ID may identify a user.
        event["user"] = {"id": user["id"]} if "id" in user else {}
    if isinstance(event.get("request"), dict):
        scrub_request(event["request"])
    breadcrumbs = event.get("breadcrumbs")
    for crumb in breadcrumbs.get("values", []) if isinstance(breadcrumbs, dict) else breadcrumbs or []:
        if isinstance(crumb, dict):
            _scrub_urls_in(crumb.get("data"))
    for span in event.get("spans") or []:
        if isinstance(span, dict) and not isinstance(span, SerializedSpan):  # ours carry no URL
            _scrub_urls_in(span.get("data"))
    for key in ("message", "logentry", "exception", "breadcrumbs", "extra", "tags", "request", "contexts"):
        if key in event:
            event[key] = _scrub_strings(event[key])
    return event


def before_send(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any] | None:
    return _tag_and_scrub(event)


def before_send_transaction(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any] | None:
    return _tag_and_scrub(event)


TRACED_SCOPE_KEY = "app.traced"
# (rate, random number) that sampled a request this service decided itself (not set when it
# followed the web app's decision): report_head_sampling() puts them in the trace.
HEAD_SAMPLING_SCOPE_KEY = "app.head_sampling"


def report_head_sampling(transaction: Any, rate: float, sample_rand: float) -> None:
    """Make a transaction this service sampled itself say what sampled it.

    The decision is taken before any Sentry machinery runs (RequestSampler) and handed to the SDK
    as traces_sampler's 1.0, so the SDK would put sample_rate=1.0, and a sample_rand of its own that
    has nothing to do with the decision, in the trace's dynamic sampling context (the envelope's
    `trace` header, the `baggage` sent downstream). Sentry extrapolates counts by 1 / sample_rate
    (a 10% sample would read as all the traffic) and downstream SDKs sample on sample_rand, so both
    must be what decided: the rate in force (SENTRY_TRACES_SAMPLE_RATE, or lower in a spike,
    app/core/trace_budget.py) and the draw below it. Called as the transaction starts, before the
    context is first built from these attributes (sentry-sdk 2.x: `sample_rate`, `_sample_rand`,
    Baggage.populate_from_transaction). A caller's own `sentry-*` baggage (an API client with its
    own SDK; its sampling items were already removed) is the context as it came, frozen: the
    decision's items are set there."""
    transaction.sample_rate = rate
    transaction._sample_rand = sample_rand
    baggage = transaction._baggage
    if baggage is not None and not baggage.mutable:
        baggage.sentry_items.update(sample_rate=str(rate), sample_rand=f"{sample_rand:.6f}", sampled="true")


def _parent_sample_rate() -> float:
    """The rate in the incoming `baggage` (continue_trace has just made it the active context), 1.0
    if it has none."""
    baggage = sentry_sdk.get_current_scope().get_active_propagation_context().baggage
    try:
        rate = float(baggage.sentry_items["sample_rate"]) if baggage is not None else 1.0
    except (KeyError, ValueError):
        return 1.0
    return rate if 0.0 < rate <= 1.0 else 1.0


def make_traces_sampler(rate: float):  # noqa: ANN201
    def traces_sampler(sampling_context: dict[str, Any]) -> float:
        asgi_scope = sampling_context.get("asgi_scope")
        if asgi_scope is not None:
            if asgi_scope.get("path") in UNSAMPLED_PATHS:
                return 0.0
            if TRACED_SCOPE_KEY in asgi_scope:  # decided up front by the observability middleware
                if not asgi_scope[TRACED_SCOPE_KEY]:
                    return 0.0
                # The SDK writes what this returns into the trace's sampling context: for the web
                # app's decision the web app's rate (its sample_rand, below that rate, then decides
                # here as it did there); for our own, 1.0 and report_head_sampling() sets the rate.
                return _parent_sample_rate() if sampling_context.get("parent_sampled") else 1.0
        parent = sampling_context.get("parent_sampled")
        if parent is not None:
            return 1.0 if parent else 0.0
        return rate

    return traces_sampler


class RequestSampler:
    """The per-request tracing decision, taken before any Sentry machinery runs: never for
    health/metrics/RUM paths; the upstream decision in `sentry-trace` when the request came
    through our trusted proxy (the browser running our web app decided); else
    SENTRY_TRACES_SAMPLE_RATE.

    It also cleans the incoming trace headers in the scope, for everything after it (the trace
    continued by the observability middleware, the sampled transaction, the event's headers):
    `baggage` keeps only `sentry-*` items, and from any other caller `sentry-trace` keeps the
    trace and span IDs but loses its sampled flag (and baggage its sampling items). The trace ID is
    still continued, so an API client's errors can be found by its trace."""

    def __init__(self, rate: float, max_per_second: float = 0.0,
                 on_rate_change: Callable[[float], None] | None = None) -> None:
        self.rate = rate  # as configured; the rate in force is the budget's
        self.budget = TraceBudget(rate, max_per_second, on_change=on_rate_change)

    def __call__(self, scope: dict[str, Any]) -> tuple[bool, str | None]:
        """(traced, upstream trace id)"""
        trusted = bool(scope.get(VIA_TRUSTED_PROXY))
        upstream: bytes | None = None
        has_baggage = False
        for name, value in scope["headers"]:
            if name == b"sentry-trace":
                upstream = value
            elif name == b"baggage":
                has_baggage = True
        trace_id = None
        decision: bool | None = None
        if upstream is not None:
            parts = upstream.split(b"-")
            if len(parts[0]) == 32:
                trace_id = parts[0].decode("ascii", "replace")
            if len(parts) >= 3 and trusted:
                decision = parts[2] == b"1"
        if has_baggage or (upstream is not None and not trusted):
            scope["headers"] = _clean_trace_headers(scope["headers"], trusted)
        if scope["path"] in UNSAMPLED_PATHS or self.rate <= 0 and decision is None:
            return False, trace_id
        if decision is None:
            rate = self.budget.rate_for_next()  # SENTRY_TRACES_SAMPLE_RATE, or lower in a spike
            # drawn as the SDK draws sample_rand (six decimals, so ".6f" never rounds it up)
            draw = int(random.random() * 1_000_000) / 1_000_000
            decision = draw < rate
            if decision:
                scope[HEAD_SAMPLING_SCOPE_KEY] = (rate, draw)
        ctx = correlation.current()
        if decision and ctx is not None and scope.get("query_string"):
            ctx.raw_query_string = scope["query_string"]
        return decision, trace_id


def _clean_trace_headers(headers: list[tuple[bytes, bytes]], trusted: bool) -> list[tuple[bytes, bytes]]:
    cleaned = []
    for name, value in headers:
        if name == b"baggage":
            value = sentry_baggage(value.decode("latin-1"), keep_decision=trusted).encode("latin-1")
            if not value:
                continue
        elif name == b"sentry-trace" and not trusted:
            value = b"-".join(value.split(b"-")[:2])
        cleaned.append((name, value))
    return cleaned


def build_options(settings: Settings, transport: Transport | None = None) -> dict[str, Any]:
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
            HttpxIntegration(),
            # Warnings from stdlib loggers become breadcrumbs; errors are captured explicitly.
            LoggingIntegration(level=logging.WARNING, event_level=None),
            AtexitIntegration(),
            DedupeIntegration(),
            ExcepthookIntegration(),
            TraceSpansIntegration(),  # our DB/Redis spans serialized once (app/core/trace_spans.py)
            TransactionSerializerIntegration(),  # transactions by a short walk (app/core/transaction_serializer.py)
        ],
        spotlight=False,
        max_breadcrumbs=30,
        # With a DSN, envelopes are compressed on the SDK's worker thread (which shares the GIL with the
        # event loop): brotli quality 1 costs ≈ 37 µs per transaction against ≈ 150 µs at the SDK's
        # default quality 4 (≈ 210 µs for its gzip -9 when brotli is missing, hence brotli in
        # pyproject.toml), for ≈ 10% more bytes (≈ 1.6 KB vs 1.5 KB a transaction; docs/benchmarks.md).
        _experiments={"transport_compression_algo": "br", "transport_compression_level": 1},
    )
    if transport is not None:
        options["transport"] = transport
    elif settings.SENTRY_DSN:
        options["transport"] = LoopHttpTransport  # the SDK makes it from the options
    elif settings.SENTRY_SPOTLIGHT_URL:
        options["transport"] = SpotlightTransport(settings.SENTRY_SPOTLIGHT_URL)
    return options


def init_sentry(settings: Settings, transport: Transport | None = None, *, agent: bool = False) -> None:
    """Call once per process, before the app is created (the integrations patch Starlette).

    What `sentry_sdk.init` does, with HandoffClient as the client: its sampled transactions can be
    finished by a transaction agent (app/core/transaction_handoff.py), which the app's lifespan
    starts when the transport is the one the settings name and SENTRY_TRANSACTION_AGENT is on.
    `agent`: this process is that agent, whose client is the SDK's own."""
    options = build_options(settings, transport)
    if agent:
        client: sentry_sdk.Client = sentry_sdk.Client(**options)
    else:
        client = HandoffClient(**options)
        client.before_handoff = tag_from_request
        client.agent_settings = (settings.model_dump_json()
                                 if transport is None and settings.SENTRY_TRANSACTION_AGENT else None)
    sentry_sdk.get_global_scope().set_client(client)
    if not sentry_sdk.get_client().options["debug"]:
        # sentry-sdk sets its own logger to DEBUG at import and drops every record in a filter
        # unless `debug` is on (sentry-sdk 2.75, module sentry_sdk.debug), so each of its debug calls (two per sampled
        # transaction in start_transaction) built a LogRecord, with a stack walk, for nothing.
        # Without `debug` the filter drops every level, so raising the level changes no output.
        sdk_logger.setLevel(logging.WARNING)


def enter_request_scopes() -> tuple[Token[Any], Token[Any]]:
    """What `sentry_sdk.isolation_scope()` does on entry: fork the current and the isolation scope
    and set the forks as current; without the generator context manager around it (≈ 0.4 µs per
    request, docs/benchmarks.md). Written by hand against sentry-sdk's two scope contextvars
    (module sentry_sdk.scope, 2.75); tests/test_observability.py checks the isolation."""
    current_token = _current_scope_var.set(Scope.get_current_scope().fork())
    isolation_token = _isolation_scope_var.set(Scope.get_isolation_scope().fork())
    return current_token, isolation_token


def exit_request_scopes(tokens: tuple[Token[Any], Token[Any]]) -> None:
    """The exit of `sentry_sdk.isolation_scope()`: the scopes of before enter_request_scopes()."""
    current_token, isolation_token = tokens
    with capture_internal_exceptions():
        _current_scope_var.reset(current_token)
    with capture_internal_exceptions():
        _isolation_scope_var.reset(isolation_token)


def capture_upstream_failure(exc: BaseException, upstream: str) -> None:
    """Upstream timeouts/errors (billing) are handled (a 502/504 is returned) but still reported."""
    with sentry_sdk.new_scope() as scope:
        scope.set_tag("upstream", upstream)
        scope.fingerprint = ["upstream", upstream, type(exc).__name__]
        sentry_sdk.capture_exception(exc)


