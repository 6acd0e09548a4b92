"""Request correlation: the request being served, in a contextvar, with typed accessors.

The X-Request-ID is taken from the client only when it is short and of a safe charset (no log
injection, no unbounded values); otherwise a fresh one is made. The request middleware
(app/core/request_middleware.py) begins a RequestContext per request and returns the ID on every
response; the rest of the app reads and fills it through the functions below, never through
string keys of the ASGI scope's state: logs, Sentry tags, outbox event properties and outgoing
httpx calls read the ID; the auth dependency sets the caller; a rate limit marks its rejection.

This contextvar is also the log lines' correlation: the request ID and trace ID are set once per
request, and every line logged while it is served (ours through structlog, stdlib ones through the
same formatter) reads them from here (app/core/logging.py `add_request_correlation`); no
per-request binding of structlog contextvars, which would copy the context on every line.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar, Token
from typing import Protocol

import httpx
from starlette.requests import Request

REQUEST_ID_HEADER = "X-Request-ID"
_HEADER_KEY = b"x-request-id"
_SAFE_REQUEST_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")


class Caller(Protocol):
    """What core needs to know about an authenticated caller (a feature's principal fits it):
    an opaque ID for logs and Sentry, never an e-mail, and the plan for api_usage_total."""

    @property
    def user_id(self) -> object: ...

    @property
    def plan(self) -> str: ...


class RequestContext:
    """The request-scoped values of one request. Mutable and shared by reference, so code running
    in a copied context (threadpool dependencies) sees and fills the same object."""

    __slots__ = ("request_id", "trace_id", "caller", "rate_limited_scope", "route", "sampled_trace_id",
                 "raw_query_string")

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id
        # the request's trace (the caller's, or a new one), set once by the request middleware;
        # every log line of the request carries it (app/core/logging.py), the sampled one if any
        self.trace_id: str | None = None
        self.caller: Caller | None = None
        self.rate_limited_scope: str | None = None  # set when a rate limit rejected the request
        self.route: str | None = None  # the matched route template, once known
        self.sampled_trace_id: str | None = None  # the transaction's trace ID when Sentry sampled the request
        # the query string as received, kept for a sampled request so that Sentry's copy (decoded,
        # not reliably split into pairs) is scrubbed from the original (app/core/sentry.py)
        self.raw_query_string: bytes | None = None

    @property
    def user_id(self) -> str | None:
        return str(self.caller.user_id) if self.caller is not None else None

    @property
    def plan(self) -> str | None:
        return self.caller.plan if self.caller is not None else None


_current: ContextVar[RequestContext | None] = ContextVar("northstar_request", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


def request_id_from_headers(headers: list[tuple[bytes, bytes]]) -> str:
    """The client's X-Request-ID if it is acceptable, else a new one."""
    for name, value in headers:
        if name == _HEADER_KEY:
            if _SAFE_REQUEST_ID.fullmatch(value):
                return value.decode("ascii")
            break
    return new_request_id()


def begin(request_id: str) -> tuple[RequestContext, Token[RequestContext | None]]:
    ctx = RequestContext(request_id)
    return ctx, _current.set(ctx)


def end(token: Token[RequestContext | None]) -> None:
    _current.reset(token)


def current() -> RequestContext | None:
    return _current.get()


def trace_id_of(ctx: RequestContext) -> str | None:
    """The trace a line of this request belongs to: the sampled transaction's, else the request's."""
    return ctx.sampled_trace_id or ctx.trace_id


def get_request_id() -> str | None:
    ctx = _current.get()
    return ctx.request_id if ctx is not None else None


def request_id_of(request: Request) -> str | None:
    """The ID of the request being served; the client's header where no context runs."""
    return get_request_id() or request.headers.get("x-request-id")


def set_caller(caller: Caller) -> None:
    """Make the authenticated caller known to logs, metrics and Sentry (IDs only)."""
    ctx = _current.get()
    if ctx is not None:
        ctx.caller = caller


def mark_rate_limited(scope: str) -> None:
    """Record that a rate limit of `scope` rejected this request (rate_limit_rejections_total)."""
    ctx = _current.get()
    if ctx is not None:
        ctx.rate_limited_scope = scope


async def forward_request_id(request: httpx.Request) -> None:
    """httpx request event hook: outgoing calls carry the current request ID."""
    request_id = get_request_id()
    if request_id is not None and REQUEST_ID_HEADER not in request.headers:
        request.headers[REQUEST_ID_HEADER] = request_id
