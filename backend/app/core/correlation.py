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

import httpx

REQUEST_ID_HEADER = "X-Request-ID"
_HEADER_KEY = b"x-request-id"
_SAFE_REQUEST_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")


class RequestContext:
    """Per-request state. `state` is the ASGI scope's state dict (Starlette's request.state), where
    the auth dependency leaves `principal`; it is read lazily, so code running in a copied context
    (threadpool dependencies) or deep in the app needs no extra call to make the user known."""

    __slots__ = ("request_id", "state", "_user_id", "_plan")

    def __init__(self, request_id: str, state: dict | None = None) -> None:
        self.request_id = request_id
        self.state = state if state is not None else {}
        self._user_id: str | None = None
        self._plan: str | None = None

    @property
    def user_id(self) -> str | None:
        if self._user_id is not None:
            return self._user_id
        principal = self.state.get("principal")
        return str(principal.user_id) if principal is not None else None

    @property
    def plan(self) -> str | None:
        if self._plan is not None:
            return self._plan
        return getattr(self.state.get("principal"), "plan", None)


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


def begin(request_id: str, state: dict | None = None) -> tuple[RequestContext, object]:
    ctx = RequestContext(request_id, state)
    return ctx, _current.set(ctx)


def end(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]


def current() -> RequestContext | None:
    return _current.get()


def get_request_id() -> str | None:
    ctx = _current.get()
    return ctx.request_id if ctx is not None else None


def bind_user(user_id: object, plan: str | None = None) -> None:
    """Make the user known explicitly (IDs only, never the email); the auth dependency's
    request.state.principal is picked up without this."""
    ctx = _current.get()
    if ctx is not None:
        ctx._user_id = str(user_id)
        ctx._plan = plan


async def forward_request_id(request: httpx.Request) -> None:
    """httpx request event hook: outgoing calls carry the current request ID."""
    request_id = get_request_id()
    if request_id is not None and REQUEST_ID_HEADER not in request.headers:
        request.headers[REQUEST_ID_HEADER] = request_id
