"""An exception that escaped a request: the one sequence every path runs.

Counted in http_unhandled_exceptions_total{exception_type, route} (ErrorBurst, ErrorStorm and
NewErrorType watch it), captured to Sentry as an error event of the request's route, and logged
as one `unhandled_exception` line. Used by the request middleware (answered 500) and by the
database-outage handler (answered 503, app/core/db_unavailable.py).
"""

from __future__ import annotations

import sentry_sdk
from sentry_sdk.utils import event_from_exception
from starlette.types import Scope

from app.core import metrics
from app.core.logging import get_logger

MAX_LOGGED_PATH = 256
_error_log = get_logger("app.errors")


def report_unhandled_exception(exc: BaseException, scope: Scope, route: str, request_id: str | None,
                               status_code: int | None = None) -> None:
    metrics.observe_unhandled_exception(exc, route)
    _capture(exc, scope, route)
    fields = {} if status_code is None else {"status_code": status_code}
    _error_log.error("unhandled_exception", exception_type=type(exc).__name__, route=route,
                     request_id=request_id, exc_info=exc, **fields)


def _capture(exc: BaseException, scope: Scope, route: str) -> None:
    client = sentry_sdk.get_client()
    if not client.is_active():
        return
    event, hint = event_from_exception(exc, client_options=client.options,
                                       mechanism={"type": "app.asgi", "handled": False})
    # What the Starlette integration would add, minus anything personal (no query string,
    # no headers, no body, no client address).
    event["transaction"] = route
    event["request"] = {"method": scope["method"], "url": scope["path"][:MAX_LOGGED_PATH]}
    sentry_sdk.capture_event(event, hint=hint)
