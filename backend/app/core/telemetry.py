"""Wires the observability parts into the app: called from create_app and its lifespan.

    setup_process(settings)     logging + Sentry, once per process, before FastAPI() is built
    instrument_app(app, ...)    health/RUM/event routes, fault injection (if enabled) and, last,
                                the observability middleware (outermost)
    async with running(app):    inside the lifespan: DB metrics, analytics delivery, fault
                                effects, readiness (true after start-up, false from SIGTERM on)

INSTRUMENTATION (bench only): "full" (default), "off" (bare app, for the benchmark baseline) or
"seed" (the seed document's three @app.middleware("http") layers with raw-path labels).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import AsyncIterator
from typing import Any

import sentry_sdk

from app.core import metrics
from app.core.logging import configure_logging

log = logging.getLogger(__name__)

_process_ready = False


def mode(settings: Any) -> str:
    return getattr(settings, "INSTRUMENTATION", "full")


def setup_process(settings: Any) -> None:
    global _process_ready
    if _process_ready:
        return
    _process_ready = True
    configure_logging(settings.LOG_LEVEL)
    if mode(settings) == "full" and not sentry_sdk.get_client().is_active():
        from app.core.sentry import init_sentry

        init_sentry(settings)
    from app.analytics import counters

    counters.install()


def instrument_app(app: Any, settings: Any) -> None:
    from app.api.health import router as health_router
    from app.rum.routes import router as rum_router

    app.include_router(health_router)
    app.include_router(rum_router)
    if settings.FAULT_INJECTION_ENABLED:
        from app import faults

        faults.install(app, settings.FAULT_STATE_FILE)
    current = mode(settings)
    if current == "full":
        from app.core.observability import ObservabilityMiddleware

        metrics.set_app_info(settings.GIT_SHA, settings.ENVIRONMENT)
        app.add_middleware(ObservabilityMiddleware, traces_sample_rate=settings.SENTRY_TRACES_SAMPLE_RATE)
    elif current == "seed":
        from app.core.seed_style import install_seed_middleware

        install_seed_middleware(app)


def outgoing_request_hooks() -> list[Any]:
    """httpx event hooks for outgoing calls (billing): request ID forwarding, billing fault."""
    from app.core.correlation import forward_request_id
    from app.faults.effects import billing_timeout_hook

    return [forward_request_id, billing_timeout_hook]


def _chain_shutdown_signals(app: Any) -> list[tuple[int, Any]]:
    """Readiness goes false the moment SIGTERM/SIGINT arrives; the server's own handler
    (uvicorn: stop accepting, drain in-flight requests) still runs."""
    if threading.current_thread() is not threading.main_thread():
        return []
    previous: list[tuple[int, Any]] = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        prev = signal.getsignal(signum)
        if not callable(prev):
            continue

        def handler(sig: int, frame: Any, prev: Any = prev) -> None:
            app.state.ready = False
            prev(sig, frame)

        signal.signal(signum, handler)
        previous.append((signum, prev))
    return previous


@contextlib.asynccontextmanager
async def running(app: Any) -> AsyncIterator[None]:
    settings = app.state.settings
    full = mode(settings) == "full"
    tasks: list[asyncio.Task] = []
    extra_engines: list[Any] = []
    app.state.ready = False
    if full:
        metrics.instrument_engine(app.state.engine, settings.DB_POOL_SIZE, settings.DB_MAX_OVERFLOW)
        tasks.append(asyncio.create_task(metrics.PoolGaugeSampler(app.state.engine).run(), name="pool-gauges"))
    if getattr(settings, "ANALYTICS_DELIVERY_ENABLED", True):
        from app.analytics.worker import create_delivery

        delivery, engine = create_delivery(settings)
        extra_engines.append(engine)
        tasks.append(asyncio.create_task(delivery.run(), name="analytics-delivery"))
    if settings.FAULT_INJECTION_ENABLED:
        from app.faults.effects import PoolHolder

        tasks.append(asyncio.create_task(PoolHolder(app.state.engine).run(), name="fault-pool-hold"))
    restored = _chain_shutdown_signals(app)
    app.state.ready = True
    try:
        yield
    finally:
        app.state.ready = False
        for signum, prev in restored:
            with contextlib.suppress(ValueError):
                signal.signal(signum, prev)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for engine in extra_engines:
            await engine.dispose()
        if full:
            metrics.uninstrument_pool_gauges(settings.DB_POOL_SIZE, settings.DB_MAX_OVERFLOW)
            sentry_sdk.flush(timeout=2.0)
