"""The composition: the one place that wires the features into the app -- routers, exception
handlers, middleware and the lifespan's resources and background tasks. Features and app/core
know nothing of each other's wiring; what core needs from a feature (the redis_down connection
class, the billing fault's httpx hook, the fault pool holder, the business counters) is handed
to it here.

    build_app(settings)         the app as deployed (app/main.py's create_app)
    build_app(settings, observability=False)
                                without Sentry, the request middleware and DB metrics: the
                                baseline the benchmark measures against (bench/app_factory.py)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import httpx
import sentry_sdk
from fastapi import FastAPI

from app import faults
from app.analytics import counters
from app.analytics.adoption import AdoptionSampler
from app.analytics.worker import create_delivery
from app.api.health import router as health_router
from app.billing.routes import router as billing_router
from app.core import db_unavailable, gc_freeze, metrics, product, readiness, transaction_handoff
from app.core.body_limit import BodySizeLimitMiddleware
from app.core.client_address import TrustedProxyMiddleware
from app.core.config import Settings
from app.core.correlation import forward_request_id
from app.core.csrf import CSRFMiddleware
from app.core.db import create_engine, create_sessionmaker
from app.core.errors import install_error_handlers
from app.core.logging import configure_logging
from app.core.rate_limit import RateLimiter
from app.core.redis import Cache, RedisBreaker, create_redis
from app.core.idle_queue import IdleQueue
from app.core.request_middleware import ObservabilityMiddleware
from app.core.sentry import init_sentry
from app.core.sentry_transports import drain_loop_senders
from app.faults.effects import PoolHolder, billing_timeout_hook
from app.projects.routes import router as projects_router
from app.rum import metrics as rum_metrics
from app.rum.routes import router as rum_router
from app.users.routes import router as users_router

ROUTERS = (users_router, projects_router, billing_router, health_router, rum_router)

_process_ready = False


def _setup_process(settings: Settings, observability: bool) -> None:
    """Once per process, before FastAPI() is built: logging, Sentry, the business counters."""
    global _process_ready
    if _process_ready:
        return
    _process_ready = True
    configure_logging(settings.LOG_LEVEL)
    if observability and not sentry_sdk.get_client().is_active():
        init_sentry(settings)
    counters.install()


def build_app(settings: Settings, *, observability: bool = True) -> FastAPI:
    _setup_process(settings, observability)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with _resources(app, settings, observability):
            yield

    docs = settings.api_docs_enabled  # off in production unless API_DOCS_ENABLED (SECURITY.md)
    app = FastAPI(title=f"{product.NAME} API", version=settings.GIT_SHA, lifespan=lifespan,
                  openapi_url="/openapi.json" if docs else None, docs_url="/docs" if docs else None,
                  redoc_url="/redoc" if docs else None)
    app.state.settings = settings
    # The work that waits for the worker to be idle (app/core/idle_queue.py), run out at shutdown.
    app.state.idle = IdleQueue()

    install_error_handlers(app)
    db_unavailable.install(app, settings.DB_RETRY_AFTER_SECONDS)  # PostgreSQL down / pool exhausted: 503
    for router in ROUTERS:
        app.include_router(router)

    # Each add_middleware wraps the ones before it: the body limit runs before anything reads the
    # body, the CSRF check (headers only) before it, fault injection (if enabled) outside them, the
    # request middleware outside that, and the trusted-proxy address outermost, so every layer sees
    # the client address our proxy saw (rate limit, Sentry sampling, /_faults' loopback check).
    app.add_middleware(BodySizeLimitMiddleware, max_body_bytes=settings.MAX_BODY_BYTES)
    app.add_middleware(CSRFMiddleware, trusted_origins=settings.CSRF_TRUSTED_ORIGINS)
    if settings.FAULT_INJECTION_ENABLED:
        faults.install(app, settings.FAULT_STATE_FILE)  # /_faults and the request-fault middleware
    if observability:
        metrics.set_app_info(settings.GIT_SHA, settings.ENVIRONMENT)
        rum_metrics.init_funnel_series()
        # errors: sentry-sdk's `sample_rate`, left at its default 1.0 (app/core/sentry.py)
        metrics.set_sentry_sample_rates(traces=settings.SENTRY_TRACES_SAMPLE_RATE, errors=1.0,
                                        profiles=settings.SENTRY_PROFILES_SAMPLE_RATE)
        app.add_middleware(ObservabilityMiddleware, traces_sample_rate=settings.SENTRY_TRACES_SAMPLE_RATE,
                           traces_max_per_second=settings.SENTRY_TRACES_MAX_PER_SECOND, idle=app.state.idle)
    app.add_middleware(TrustedProxyMiddleware, proxies=settings.TRUSTED_PROXY_ADDRESSES,
                       secret=settings.TRUSTED_PROXY_SECRET.get_secret_value())
    return app


@contextlib.asynccontextmanager
async def _resources(app: FastAPI, settings: Settings, observability: bool) -> AsyncIterator[None]:
    """Engine, Redis, the outgoing HTTP client and the background tasks; ready while they run."""
    engine = create_engine(settings)
    redis = create_redis(settings, faults.redis_connection_class(settings.FAULT_INJECTION_ENABLED))
    outgoing_hooks: list[Any] = [forward_request_id]
    if settings.FAULT_INJECTION_ENABLED:
        outgoing_hooks.append(billing_timeout_hook)
    http = httpx.AsyncClient(
        timeout=httpx.Timeout(settings.PAYMENT_TIMEOUT_SECONDS),
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
        event_hooks={"request": outgoing_hooks},
    )
    app.state.engine = engine
    app.state.sessionmaker = create_sessionmaker(engine)
    app.state.redis = redis
    breaker = RedisBreaker(settings.REDIS_BREAKER_SECONDS)  # shared: one outage, one timeout
    app.state.cache = Cache(redis, settings.REDIS_KEY_PREFIX, breaker)
    app.state.rate_limiter = RateLimiter(redis, settings.REDIS_KEY_PREFIX, breaker)
    app.state.http = http
    app.state.ready = False
    try:
        async with contextlib.AsyncExitStack() as stack:
            # The batched request metrics (app/core/metrics_batch.py): written every
            # METRICS_FLUSH_SECONDS, and a last time after everything below has shut down
            # (callbacks run last-in, first-out).
            stack.callback(metrics.batch.flush)
            tasks: dict[str, Coroutine[Any, Any, None]] = {
                "metrics-flush": metrics.batch.flush_every(settings.METRICS_FLUSH_SECONDS)}
            if observability:
                metrics.instrument_engine(engine, settings.DB_POOL_SIZE, settings.DB_MAX_OVERFLOW)
                stack.callback(metrics.uninstrument_pool_gauges, settings.DB_POOL_SIZE, settings.DB_MAX_OVERFLOW)
                stack.callback(sentry_sdk.flush, timeout=2.0)
                # first (last-in, first-out): what the loop sender took is answered before the flush
                stack.push_async_callback(drain_loop_senders, sentry_sdk.get_client(), 2.0)
                # after the idle queue's drain: the agent sends what it was handed, then exits
                stack.enter_context(transaction_handoff.agent_running(sentry_sdk.get_client()))
                # before that: the transactions still waiting for an idle worker reach the transport
                stack.callback(app.state.idle.drain)
                tasks["pool-gauges"] = metrics.PoolGaugeSampler(engine).run()
                tasks["adoption-gauges"] = AdoptionSampler(
                    engine, settings.ADOPTION_REFRESH_SECONDS, settings.ADOPTION_ACTIVE_DAYS).run()
            if settings.ANALYTICS_DELIVERY_ENABLED:
                delivery, delivery_engine = create_delivery(settings)
                stack.push_async_callback(delivery_engine.dispose)
                tasks["analytics-delivery"] = delivery.run()
            if settings.FAULT_INJECTION_ENABLED:
                tasks["fault-pool-hold"] = PoolHolder(engine).run()
            await stack.enter_async_context(_background(tasks))
            if settings.GC_FREEZE_AFTER_STARTUP:
                gc_freeze.freeze_start_up_objects()  # last: everything above is start-up's
            stack.enter_context(readiness.ready_until_shutdown(app.state))
            yield
    finally:
        await http.aclose()
        await redis.aclose()
        await redis.connection_pool.disconnect()
        await engine.dispose()


@contextlib.asynccontextmanager
async def _background(coroutines: dict[str, Coroutine[Any, Any, None]]) -> AsyncIterator[None]:
    """Run endless loops as tasks for the block's duration; cancel and await them after it."""
    tasks = [asyncio.create_task(coro, name=name) for name, coro in coroutines.items()]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
