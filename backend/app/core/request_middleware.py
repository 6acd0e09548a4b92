"""The request middleware: one pure ASGI pass per request for correlation, metrics, the access log
and error capture.

One pass instead of three `@app.middleware("http")` layers (BaseHTTPMiddleware costs per layer
even when empty: docs/benchmarks.md). The logic of each concern lives in its own module:
app/core/correlation.py (request ID and request-scoped values), app/core/metrics.py (Prometheus),
app/core/logging.py (the JSON access line), app/core/sentry.py (sampling),
app/core/error_reporting.py (an escaped exception).

Added last, so it is the outermost user middleware: it sees every response (413s from the body
limit, 422s, 500s) and adds X-Request-ID to all of them. An exception that escapes the app is
reported once (app/core/error_reporting.py) and answered here with a JSON 500 carrying the
request ID (no exception text).
"""

from __future__ import annotations

import os
import time

import orjson
import sentry_sdk
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core import correlation, metrics
from app.core.error_reporting import MAX_LOGGED_PATH, report_unhandled_exception
from app.core.access_log import write_access_line
from app.core.idle_queue import IdleQueue
from app.core.sampled_transaction import SampledTransaction
from app.core.sentry import TRACED_SCOPE_KEY, RequestSampler, enter_request_scopes, exit_request_scopes


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp, *, traces_sample_rate: float = 0.0, traces_max_per_second: float = 0.0,
                 idle: IdleQueue | None = None) -> None:
        self.app = app
        # What waits for the worker to be idle: the sampled requests' transactions (app/core/idle_queue.py).
        self.idle = idle if idle is not None else IdleQueue()
        self.sampler = RequestSampler(traces_sample_rate, traces_max_per_second,
                                      on_rate_change=metrics.set_traces_rate_in_force)
        # Only sampled requests pay for a Sentry transaction (app/core/sampled_transaction.py).
        self.traced_app = SampledTransaction(app, self.idle)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        start = time.perf_counter()
        request_id = correlation.request_id_from_headers(scope["headers"])
        ctx, token = correlation.begin(request_id)
        request_id_header = (b"x-request-id", request_id.encode())
        method = metrics.bounded_method(scope["method"])
        metrics.request_started(method)

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
        sentry_scopes = enter_request_scopes()
        trace_id = ctx.trace_id = _begin_request_trace(scope["headers"]) or trace_id
        try:
            self.idle.request_started()  # inside the try: its finally ends it
            if traced and sentry_sdk.get_client().is_active():
                await self.traced_app(scope, receive, send_with_request_id)
            else:
                await self.app(scope, receive, send_with_request_id)
        except Exception as exc:
            status = 500
            report_unhandled_exception(exc, scope, ctx.route or metrics.route_template(scope), request_id)
            if response_started:
                raise  # nothing sensible can be sent any more; the server closes the connection
            await _send_500(send, request_id)
        finally:
            duration = time.perf_counter() - start
            route = ctx.route or metrics.route_template(scope)
            sampled_trace_id = ctx.sampled_trace_id
            trace_id = sampled_trace_id or trace_id
            metrics.request_finished(method)
            metrics.observe_request(method, route, status, duration, sampled_trace_id)
            if route.startswith("/api/"):
                metrics.observe_api_usage(route, ctx.plan or ("unknown" if ctx.user_id else "anonymous"))
            if ctx.rate_limited_scope is not None:
                metrics.record_rate_limit_rejection(ctx.rate_limited_scope)
            write_access_line(request_id, method, route, scope["path"][:MAX_LOGGED_PATH], status,
                              round(duration * 1000, 2), ctx.user_id, trace_id)
            exit_request_scopes(sentry_scopes)
            correlation.end(token)
            self.idle.request_finished()


def _begin_request_trace(headers: list[tuple[bytes, bytes]]) -> str | None:
    """Continue the caller's trace (sentry-trace/baggage headers) or start a new one; return its ID."""
    incoming = None
    for name, value in headers:
        if name == b"sentry-trace" or name == b"baggage":
            incoming = incoming or {}
            incoming[name.decode("latin-1")] = value.decode("latin-1")
    current = sentry_sdk.get_current_scope()
    isolation = sentry_sdk.get_isolation_scope()
    isolation.clear_breadcrumbs()
    current.span = None  # a span left active by the caller (e.g. an in-process client) is not ours
    if incoming and incoming.get("sentry-trace"):
        isolation.generate_propagation_context(incoming)
        current.generate_propagation_context(incoming)
        return current.get_active_propagation_context().trace_id
    # A new trace, the same ID on both scopes (os.urandom: a quarter of uuid4's cost, as Sentry's
    # own trace IDs 32 hex digits).
    trace_id = os.urandom(16).hex()
    for sentry_scope in (isolation, current):
        sentry_scope.set_new_propagation_context()
        sentry_scope.get_active_propagation_context().trace_id = trace_id
    return trace_id


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
