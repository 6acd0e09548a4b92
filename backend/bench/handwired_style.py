"""The common hand-wired observability stack, for the benchmark only (INSTRUMENTATION=handwired,
bench/app_factory.py): what a team typically assembles from the maintained packages --
prometheus-fastapi-instrumentator, asgi-correlation-id, a structlog access-log middleware
(`@app.middleware("http")`, contextvars bound per request, JSON through stdlib logging) and
sentry-sdk initialised with its defaults (every default and auto-enabled integration: Starlette,
FastAPI, SQLAlchemy, asyncpg, Redis, logging) and `traces_sample_rate=0.1`, its HTTP transport
posting to the benchmark's loopback sink (BENCH_SINK_URL). Never used in production: a reference
row of `make bench` (docs/benchmarks.md).
"""

from __future__ import annotations

import os
import time
from urllib.parse import urlsplit

import structlog
from fastapi import FastAPI, Request

from bench import stdlib_structlog

TRACES_SAMPLE_RATE = 0.1


def init_default_sentry() -> None:
    """Before the app is built (the Starlette/FastAPI integrations patch the classes)."""
    import sentry_sdk

    sink = urlsplit(os.environ.get("BENCH_SINK_URL", "http://127.0.0.1:9/stream"))
    sentry_sdk.init(dsn=f"http://public@{sink.netloc}/1", traces_sample_rate=TRACES_SAMPLE_RATE)


def _setup_structlog() -> None:
    stdlib_structlog.configure(merge_contextvars=True)


def install_handwired_stack(app: FastAPI) -> None:
    from asgi_correlation_id import CorrelationIdMiddleware, correlation_id
    from prometheus_fastapi_instrumentator import Instrumentator

    _setup_structlog()
    access_log = structlog.get_logger("api.access")

    @app.middleware("http")
    async def structlog_access_log(request: Request, call_next):  # noqa: ANN001, ANN202
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=correlation_id.get(), method=request.method,
                                               path=request.url.path)
        start = time.perf_counter()
        response = await call_next(request)
        access_log.info("request", status_code=response.status_code,
                        duration_ms=round((time.perf_counter() - start) * 1000, 2))
        return response

    app.add_middleware(CorrelationIdMiddleware)  # outside the access log: the ID is set first
    Instrumentator().instrument(app)  # its middleware outermost; /metrics not exposed (not measured)
