"""The seed's observability, reproduced as written, for the benchmark only (INSTRUMENTATION=seed,
bench/app_factory.py): three @app.middleware("http") layers (BaseHTTPMiddleware), raw-path metric
labels, structlog through stdlib logging. Never used in production: it is the baseline that
app/core/request_middleware.py is measured against (docs/benchmarks.md).
"""

from __future__ import annotations

import time
import uuid
from contextvars import ContextVar

import structlog
from fastapi import FastAPI, Request
from prometheus_client import CollectorRegistry, Counter, Histogram

from bench import stdlib_structlog

_registry = CollectorRegistry()  # kept apart from the real metrics
http_requests_total = Counter("seed_http_requests_total", "Total HTTP requests",
                              ["method", "endpoint", "status_code"], registry=_registry)
http_request_duration_seconds = Histogram(
    "seed_http_request_duration_seconds", "HTTP request duration", ["method", "endpoint"],
    buckets=[.005, .01, .025, .05, .075, .1, .25, .5, .75, 1.0, 2.5, 5.0, 7.5, 10.0], registry=_registry,
)
request_id_ctx: ContextVar[str | None] = ContextVar("seed_request_id", default=None)


def _setup_seed_logging() -> None:
    stdlib_structlog.configure(merge_contextvars=False)


def install_seed_middleware(app: FastAPI) -> None:
    _setup_seed_logging()

    @app.middleware("http")
    async def metrics_middleware(request: Request, call_next):  # noqa: ANN001, ANN202
        start_time = time.time()
        response = await call_next(request)
        duration = time.time() - start_time
        http_requests_total.labels(method=request.method, endpoint=request.url.path,
                                   status_code=response.status_code).inc()
        http_request_duration_seconds.labels(method=request.method, endpoint=request.url.path).observe(duration)
        return response

    @app.middleware("http")
    async def correlation_id_middleware(request: Request, call_next):  # noqa: ANN001, ANN202
        request_id = request.headers.get("X-Request-ID", str(uuid.uuid4()))
        request_id_ctx.set(request_id)
        response = await call_next(request)
        response.headers["X-Request-ID"] = request_id
        return response

    @app.middleware("http")
    async def logging_middleware(request: Request, call_next):  # noqa: ANN001, ANN202
        logger = structlog.get_logger().bind(request_id=request_id_ctx.get(), method=request.method,
                                             path=request.url.path)
        start_time = time.time()
        response = await call_next(request)
        duration = time.time() - start_time
        logger.info("request_completed", status_code=response.status_code, duration_ms=round(duration * 1000, 2))
        return response
