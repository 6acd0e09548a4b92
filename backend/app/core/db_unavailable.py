"""PostgreSQL unreachable or the pool exhausted: 503 with Retry-After, not a 500.

The service degrades instead of failing: the client gets
`{"detail": "Service temporarily unavailable", "request_id": ...}` (never exception text) and a
`Retry-After`. For the alerting these stay errors, exactly as the unhandled 500s they were:
the response counts as 5xx in http_requests_total, the exception is captured by Sentry, counted
in http_unhandled_exceptions_total{exception_type=<the exception's own type>, route} (ErrorBurst,
ErrorStorm, NewErrorType and the db_pool_exhaustion load test watch that counter) and logged as
an `unhandled_exception` line: app/core/error_reporting.py, as for every other escaped error.

What counts as "database unavailable" (`is_database_unavailable`):
- sqlalchemy.exc.TimeoutError: no pooled connection within DB_POOL_TIMEOUT;
- a SQLAlchemy DBAPIError that invalidated its connection (SQLAlchemy's own disconnect check),
  or whose driver error is a connection-level one (below);
- connection-level driver errors: asyncpg's connection class (08xxx), "cannot connect now",
  administrator/crash shutdown, too many connections, asyncpg's "connection is closed", and
  OSErrors (refused, reset, timed out) raised by asyncpg or SQLAlchemy while connecting.
Anything else (a constraint violation, a bug) is re-raised untouched and stays a 500.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg.exceptions as pg_errors
import orjson
from fastapi import FastAPI
from sqlalchemy import exc as sa_errors
from starlette.requests import Request
from starlette.responses import Response

from app.core import metrics
from app.core.correlation import request_id_of
from app.core.error_reporting import report_unhandled_exception

DETAIL = "Service temporarily unavailable"

_DRIVER_UNAVAILABLE = (
    pg_errors.PostgresConnectionError,
    pg_errors.CannotConnectNowError,
    pg_errors.AdminShutdownError,
    pg_errors.CrashShutdownError,
    pg_errors.TooManyConnectionsError,
)
_DB_MODULES = ("asyncpg", "sqlalchemy")


def _raised_by_database_layer(exc: BaseException) -> bool:
    tb = exc.__traceback__
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__", "")
        if module.startswith(_DB_MODULES):
            return True
        tb = tb.tb_next
    return False


def _driver_error_unavailable(err: BaseException) -> bool:
    if isinstance(err, _DRIVER_UNAVAILABLE):
        return True
    if isinstance(err, pg_errors.InterfaceError):
        return "connection is closed" in str(err)
    if isinstance(err, OSError):  # refused, reset, TimeoutError (an OSError subclass)
        return _raised_by_database_layer(err)
    return False


def is_database_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, sa_errors.TimeoutError):
        return True
    if isinstance(exc, sa_errors.DBAPIError):
        if exc.connection_invalidated:
            return True
        # exc.orig is SQLAlchemy's adapted DBAPI error; the driver's own error is its cause.
        seen = 0
        err: BaseException | None = exc.orig
        while err is not None and seen < 5:
            if _driver_error_unavailable(err):
                return True
            err = err.__cause__
            seen += 1
        return False
    return _driver_error_unavailable(exc)


def database_unavailable_handler(retry_after_seconds: int) -> Callable[[Request, Exception], Awaitable[Response]]:
    retry_after = {"Retry-After": str(retry_after_seconds)}

    async def handler(request: Request, exc: Exception) -> Response:
        if not is_database_unavailable(exc):
            raise exc  # not ours: on to the 500 path (reported there)
        route = metrics.route_template(request.scope)
        request_id = request_id_of(request)
        report_unhandled_exception(exc, request.scope, route, request_id, status_code=503)
        body = orjson.dumps({"detail": DETAIL, "request_id": request_id})
        return Response(body, status_code=503, media_type="application/json", headers=retry_after)

    return handler


def install(app: FastAPI, retry_after_seconds: int) -> None:
    """Register for every class a database outage can surface as; the handler re-raises others."""
    handler = database_unavailable_handler(retry_after_seconds)
    for exc_class in (sa_errors.TimeoutError, sa_errors.DBAPIError, OSError, pg_errors.PostgresError,
                      pg_errors.InterfaceError):
        app.add_exception_handler(exc_class, handler)
