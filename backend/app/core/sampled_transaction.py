"""The Sentry transaction of a sampled request, started from the trace the request middleware
already continued.

sentry-sdk's SentryAsgiMiddleware (what its Starlette/FastAPI integrations install) does, per
request: forks the current and the isolation scope, records a request-mode release-health
session, decodes the headers three times (localhost and user-agent attributes, the URL as a first
transaction name, `continue_trace`, which parses `sentry-trace` and `baggage` again), starts the
transaction, and adds an event processor that deep-copies the request data into each event.
Behind app/core/request_middleware.py, which has already forked the scopes and continued the
trace (`_begin_request_trace`), most of that ran twice. This does only what is left: the
transaction from the current scope's propagation context (what `continue_trace` would have made
of the same headers), the sampler's ASGI scope (`custom_sampling_context`, read by
app/core/sentry.py's traces_sampler), the HTTP status, the request data for every event the
request captures (sentry-sdk's own `_get_request_data`; before_send scrubs it), the head
sampling's rate in the trace (report_head_sampling) and the route as the transaction's name.
Written by hand because the SDK has no ASGI entry point that takes a trace already continued;
measured in docs/benchmarks.md ("The sampled request's transaction").

The transaction is finished (its event built, scrubbed, serialized and handed to the transport)
when the worker is idle, not before the requests already in flight (app/core/idle_queue.py); its
end is still the moment its request ended. With a transaction agent (app/core/transaction_handoff.py)
that finish is only the scopes applied and a handoff; the agent scrubs, serializes and sends it.

Not kept from SentryAsgiMiddleware: the request-mode sessions (they counted only the sampled
requests, so the backend's release-health numbers were a 10% sample that read as the whole; the
web app's sessions are the release-health signal) and its own capture of an escaping exception
(the request middleware reports it, app/core/error_reporting.py, inside this request's scopes, so
the error event still carries the request data and the trace).
"""

from __future__ import annotations

from datetime import datetime, timezone
from functools import partial
from typing import Any

import sentry_sdk
from sentry_sdk.consts import OP
from sentry_sdk.integrations._asgi_common import _get_request_data, _RootPathInPath
from sentry_sdk.integrations._wsgi_common import DEFAULT_HTTP_METHODS_TO_CAPTURE
from sentry_sdk.tracing import Transaction, TransactionSource
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core import correlation, metrics
from app.core.idle_queue import IdleQueue
from app.core.sentry import HEAD_SAMPLING_SCOPE_KEY, report_head_sampling

ORIGIN = "auto.http.app"


class IdleFinishTransaction(Transaction):
    """A Transaction whose finish, when its context manager exits, waits for an idle worker: the
    end time is taken then, the event is built and sent through `idle` (the SDK's own finish, in
    the request's context). Everything else the SDK's exit does (the error status, the profile,
    the scope's span put back) happens at once."""

    __slots__ = ("idle",)

    def __init__(self, *, idle: IdleQueue | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.idle = idle

    def finish(self, scope: Any = None, end_timestamp: Any = None, **kwargs: Any) -> str | None:
        idle, self.idle = self.idle, None
        if idle is None or not self.sampled or self.timestamp is not None:
            return super().finish(scope, end_timestamp, **kwargs)
        end = end_timestamp or datetime.now(timezone.utc)
        idle.run_or_defer(partial(super().finish, scope, end, **kwargs))
        return None


class SampledTransaction:
    """ASGI wrapper for the requests the middleware's sampler traced (inside its Sentry scopes)."""

    def __init__(self, app: ASGIApp, idle: IdleQueue | None = None) -> None:
        self.app = app
        self.idle = idle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] not in DEFAULT_HTTP_METHODS_TO_CAPTURE:  # HEAD, OPTIONS: never a transaction, as there
            await self.app(scope, receive, send)
            return
        sentry_sdk.get_isolation_scope().add_event_processor(partial(_add_request_data, asgi_scope=scope))
        propagation = sentry_sdk.get_current_scope().get_active_propagation_context()
        transaction = IdleFinishTransaction(
            idle=self.idle, op=OP.HTTP_SERVER, name=scope["path"], source=TransactionSource.URL, origin=ORIGIN,
            trace_id=propagation.trace_id, parent_span_id=propagation.parent_span_id,
            parent_sampled=propagation.parent_sampled, baggage=propagation.baggage, same_process_as_parent=False,
        )
        transaction.set_tag("asgi.type", scope["type"])
        ctx = correlation.current()
        with sentry_sdk.start_transaction(transaction, custom_sampling_context={"asgi_scope": scope}):
            if transaction.sampled:
                if ctx is not None:
                    ctx.sampled_trace_id = transaction.trace_id  # known from here on: the log lines carry it
                head_sampling = scope.get(HEAD_SAMPLING_SCOPE_KEY)
                if head_sampling is not None:
                    report_head_sampling(transaction, *head_sampling)

            async def send_with_status(message: Message) -> None:
                if message["type"] == "http.response.start":
                    transaction.set_http_status(message["status"])
                await send(message)

            try:
                await self.app(scope, receive, send_with_status)
            finally:
                route = metrics.route_template(scope)
                if ctx is not None:
                    ctx.route = route
                transaction.name = route
                transaction.source = TransactionSource.ROUTE


def _add_request_data(event: dict[str, Any], hint: dict[str, Any], asgi_scope: Scope) -> dict[str, Any]:
    """The request of every event this request captures (transaction and errors), as
    SentryAsgiMiddleware's event processor adds it: the scope's values over the event's own."""
    request = event.get("request")
    data = _get_request_data(asgi_scope, root_path_in_path=_RootPathInPath.EXCLUDED)
    event["request"] = {**request, **data} if isinstance(request, dict) else data
    return event
