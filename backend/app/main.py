"""The app factory: `uvicorn app.main:create_app --factory`."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from app.billing.routes import router as billing_router
from app.core.body_limit import BodySizeLimitMiddleware
from app.core.client_address import TrustedProxyMiddleware
from app.core.config import Settings, get_settings
from app.core.csrf import CSRFMiddleware
from app.core.db import create_engine, create_sessionmaker
from app.core.errors import install_error_handlers
from app.core.rate_limit import RateLimiter
from app.core.redis import Cache, RedisBreaker, create_redis
from app.core import telemetry
from app.projects.routes import router as projects_router
from app.users.routes import router as users_router


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    engine = create_engine(settings)
    redis = create_redis(settings)
    http = httpx.AsyncClient(
        timeout=httpx.Timeout(settings.PAYMENT_TIMEOUT_SECONDS),
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
        event_hooks={"request": telemetry.outgoing_request_hooks()},
    )
    app.state.engine = engine
    app.state.sessionmaker = create_sessionmaker(engine)
    app.state.redis = redis
    breaker = RedisBreaker(settings.REDIS_BREAKER_SECONDS)  # shared: one outage, one timeout
    app.state.cache = Cache(redis, settings.REDIS_KEY_PREFIX, breaker)
    app.state.rate_limiter = RateLimiter(redis, settings.REDIS_KEY_PREFIX, breaker)
    app.state.http = http
    try:
        async with telemetry.running(app):  # DB metrics, analytics delivery, readiness
            yield
    finally:
        await http.aclose()
        await redis.aclose()
        await redis.connection_pool.disconnect()
        await engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    telemetry.setup_process(settings)  # logging + Sentry before the app exists
    docs = settings.api_docs_enabled  # off in production unless API_DOCS_ENABLED (SECURITY.md)
    app = FastAPI(title="Northstar API", version=settings.GIT_SHA, lifespan=lifespan,
                  openapi_url="/openapi.json" if docs else None, docs_url="/docs" if docs else None,
                  redoc_url="/redoc" if docs else None)
    app.state.settings = settings

    install_error_handlers(app)
    app.include_router(users_router)
    app.include_router(projects_router)
    app.include_router(billing_router)

    # Outermost last: the body limit runs before anything reads the body.
    app.add_middleware(BodySizeLimitMiddleware, max_body_bytes=settings.MAX_BODY_BYTES)
    # Cross-origin state changes refused before the body is read (headers only).
    app.add_middleware(CSRFMiddleware, trusted_origins=settings.CSRF_TRUSTED_ORIGINS)
    # Health/RUM routes, fault injection (if enabled) and the observability middleware.
    telemetry.instrument_app(app, settings)
    # Outermost: the client address every layer below sees (rate limit, Sentry sampling, /_faults).
    app.add_middleware(TrustedProxyMiddleware, proxies=settings.TRUSTED_PROXY_ADDRESSES,
                       secret=settings.TRUSTED_PROXY_SECRET.get_secret_value())
    return app
