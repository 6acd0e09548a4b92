"""Request correlation: the X-Request-ID of the request being served, in a contextvar.

The ID is taken from the client only when it is short and of a safe charset (no log injection,
no unbounded values); otherwise a fresh one is made. The observability middleware
(app/core/observability.py) sets it, returns it on every response, and the rest of the app reads
it from here: logs, Sentry tags, outbox event properties, outgoing httpx calls.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar
from dataclasses import dataclass

import httpx

REQUEST_ID_HEADER = "X-Request-ID"
_HEADER_KEY = b"x-request-id"
_SAFE_REQUEST_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")


@dataclass(slots=True)
class RequestContext:
    """Mutable per-request state. Mutated (not replaced) so that code running in a copied context
    (threadpool dependencies) still updates what the middleware sees at the end of the request."""

    request_id: str
    user_id: str | None = None
    plan: str | None = None


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


def begin(request_id: str) -> tuple[RequestContext, object]:
    ctx = RequestContext(request_id)
    return ctx, _current.set(ctx)


def end(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]


def current() -> RequestContext | None:
    return _current.get()


def get_request_id() -> str | None:
    ctx = _current.get()
    return ctx.request_id if ctx is not None else None


def bind_user(user_id: object, plan: str | None = None) -> None:
    """Called by the auth dependency once the user is known (IDs only, never the email)."""
    ctx = _current.get()
    if ctx is not None:
        ctx.user_id = str(user_id)
        ctx.plan = plan


async def forward_request_id(request: httpx.Request) -> None:
    """httpx request event hook: outgoing calls carry the current request ID."""
    request_id = get_request_id()
    if request_id is not None and REQUEST_ID_HEADER not in request.headers:
        request.headers[REQUEST_ID_HEADER] = request_id
