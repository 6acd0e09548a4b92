"""One pure ASGI middleware for request correlation, request metrics and the access log.

One pass per request instead of three `@app.middleware("http")` layers (each BaseHTTPMiddleware
layer costs ~200 us even when empty). The logic of each concern lives in its own module:
app/core/correlation.py (request ID), app/core/metrics.py (Prometheus), app/core/logging.py
(the JSON access line), app/core/sentry.py (error capture).

Added last in create_app, so it is the outermost user middleware: it sees every response
(413s from the body limit, 422s, 500s) and adds X-Request-ID to all of them. An exception that
escapes the app is counted, captured to Sentry, logged once, and answered here with a JSON 500
carrying the request ID (no exception text).
"""

from __future__ import annotations

import time
from typing import Any

import orjson
import sentry_sdk
from sentry_sdk.integrations.asgi import SentryAsgiMiddleware
from sentry_sdk.utils import event_from_exception
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core import correlation, metrics
from app.core.sentry import TRACED_SCOPE_KEY, RequestSampler
from app.core.logging import access_logger, get_logger

_error_log = get_logger("northstar.errors")
MAX_LOGGED_PATH = 256


_TRACE_ID_KEY = "northstar.trace_id"
_ROUTE_KEY = "northstar.route"


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp, *, traces_sample_rate: float = 0.0, access_log: bool = True,
                 record_metrics: bool = True) -> None:
        self.app = app
        self.access_log = access_log
        self.record_metrics = record_metrics
        self.sampler = RequestSampler(traces_sample_rate)
        # Only sampled requests pay for Sentry's transaction machinery (see app/core/sentry.py).
        self.traced_app = SentryAsgiMiddleware(self._named_transaction, transaction_style="url",
                                               mechanism_type="asgi", span_origin="auto.http.northstar", asgi_version=3)

    async def _named_transaction(self, scope: Scope, receive: Receive, send: Send) -> None:
        # SentryAsgiMiddleware hands us a copy of the scope: report back through the shared state dict.
        state = scope["state"]
        try:
            await self.app(scope, receive, send)
        finally:
            route = state[_ROUTE_KEY] = metrics.route_template(scope)
            transaction = sentry_sdk.get_current_scope().transaction
            if transaction is not None:
                transaction.name = route
                transaction.source = "route"
                if transaction.sampled:
                    state[_TRACE_ID_KEY] = transaction.trace_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        start = time.perf_counter()
        request_id = correlation.request_id_from_headers(scope["headers"])
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        ctx, token = correlation.begin(request_id, state)
        request_id_header = (b"x-request-id", request_id.encode())
        method = metrics.bounded_method(scope["method"])
        in_progress = metrics.in_progress(method) if self.record_metrics else None
        if in_progress is not None:
            in_progress.inc()

        status = 500
        response_started = False
        traced, trace_id = self.sampler(scope)
        scope[TRACED_SCOPE_KEY] = traced

        async def send_with_request_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), request_id_header]
            await send(message)

        # Every request gets its own Sentry scopes (~5 us): breadcrumbs and captured errors belong to
        # this request only, and an error of an unsampled request still carries this request's trace
        # (the browser's, when it sent sentry-trace) rather than one shared by the whole worker.
        sentry_scopes = sentry_sdk.isolation_scope()
        sentry_scopes.__enter__()
        trace_id = _begin_request_trace(scope["headers"]) or trace_id
        try:
            if traced and sentry_sdk.get_client().is_active():
                await self.traced_app(scope, receive, send_with_request_id)
            else:
                await self.app(scope, receive, send_with_request_id)
        except Exception as exc:
            status = 500
            route = state.get(_ROUTE_KEY) or metrics.route_template(scope)
            if self.record_metrics:
                metrics.observe_unhandled_exception(exc, route)
            capture_request_error(exc, scope, route)
            _error_log.error("unhandled_exception", exception_type=type(exc).__name__, route=route,
                             request_id=request_id, exc_info=exc)
            if response_started:
                raise  # nothing sensible can be sent any more; the server closes the connection
            await _send_500(send, request_id)
        finally:
            duration = time.perf_counter() - start
            route = state.get(_ROUTE_KEY) or metrics.route_template(scope)
            sampled_trace_id = state.get(_TRACE_ID_KEY)
            trace_id = sampled_trace_id or trace_id
            if in_progress is not None:
                in_progress.dec()
                metrics.observe_request(method, route, status, duration, sampled_trace_id)
                if route.startswith("/api/"):
                    metrics.observe_api_usage(route, ctx.plan or ("unknown" if ctx.user_id else "anonymous"))
                limited = state.get("rate_limited_scope")
                if limited is not None:
                    metrics.record_rate_limit_rejection(limited)
            if self.access_log:
                access_logger().info(
                    "request",
                    request_id=request_id,
                    method=method,
                    route=route,
                    path=scope["path"][:MAX_LOGGED_PATH],
                    status_code=status,
                    duration_ms=round(duration * 1000, 2),
                    user_id=ctx.user_id,
                    trace_id=trace_id,
                )
            sentry_scopes.__exit__(None, None, None)
            correlation.end(token)


def _begin_request_trace(headers: list[tuple[bytes, bytes]]) -> str | None:
    """Continue the caller's trace (sentry-trace/baggage headers) or start a new one; return its ID."""
    incoming = {name.decode("latin-1"): value.decode("latin-1") for name, value in headers
                if name in (b"sentry-trace", b"baggage")}
    current = sentry_sdk.get_current_scope()
    isolation = sentry_sdk.get_isolation_scope()
    isolation.clear_breadcrumbs()
    current.span = None  # a span left active by the caller (e.g. an in-process client) is not ours
    if incoming.get("sentry-trace"):
        isolation.generate_propagation_context(incoming)
        current.generate_propagation_context(incoming)
    else:
        isolation.set_new_propagation_context()
        current.set_new_propagation_context()
    return current.get_active_propagation_context().trace_id


def capture_request_error(exc: BaseException, scope: Scope, route: str) -> None:
    """Report an exception that ended a request (here, and for database outages answered 503 by
    app/core/db_unavailable.py) as an error event of the request's route."""
    client = sentry_sdk.get_client()
    if not client.is_active():
        return
    event, hint = event_from_exception(exc, client_options=client.options,
                                       mechanism={"type": "northstar.asgi", "handled": False})
    # What the Starlette integration would add, minus anything personal (no query string,
    # no headers, no body, no client address).
    event["transaction"] = route
    event["request"] = {"method": scope["method"], "url": scope["path"][:MAX_LOGGED_PATH]}
    sentry_sdk.capture_event(event, hint=hint)


async def _send_500(send: Send, request_id: str) -> None:
    body = orjson.dumps({"detail": "Internal server error", "request_id": request_id})
    await send({
        "type": "http.response.start",
        "status": 500,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"x-request-id", request_id.encode()),
        ],
    })
    await send({"type": "http.response.body", "body": body})


def install(app: Any) -> None:
    """Add as the outermost user middleware (call after every other add_middleware)."""
    app.add_middleware(ObservabilityMiddleware)
