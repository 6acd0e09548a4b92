"""Test fixtures: a fresh PostgreSQL database per test session (migrated with Alembic), a Redis
key prefix per session, a payment-provider stand-in, and an app per test driven in-process."""

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from alembic import command
from alembic.config import Config
from redis.asyncio import Redis
from sqlalchemy.engine import make_url

from app.core import product
from app.core.config import Settings
from app.main import create_app
from infra.testkit import fault_routes
from infra.testkit import free_port  # noqa: F401 - the test kit's, used by the suites
from tests.payment_provider import PaymentProviderStub

BACKEND_DIR = Path(__file__).resolve().parents[1]
SERVER_URL = os.environ.get("TEST_DATABASE_SERVER_URL") or os.environ.get(
    "DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/11")
TABLES = ["analytics_outbox", "billing_charges", "tasks", "projects", "auth_sessions", "workspaces", "users"]


def pytest_configure(config):
    fault_routes.register(config)


def pytest_collection_modifyitems(items):
    # the value the app obeys (config.py): generated from product.toml's keep_fault_routes
    fault_routes.skip_marked(items, routes_kept=product.FAULT_ROUTES)


def asyncpg_dsn(sqlalchemy_url: str) -> str:
    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)


def database_url_named(name: str) -> str:
    return make_url(SERVER_URL).set(database=name).render_as_string(hide_password=False)


def create_database(name: str) -> str:
    async def _create() -> None:
        conn = await asyncpg.connect(asyncpg_dsn(database_url_named("postgres")))
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(_create())
    return database_url_named(name)


def drop_database(name: str) -> None:
    async def _drop() -> None:
        conn = await asyncpg.connect(asyncpg_dsn(database_url_named("postgres")))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(_drop())


def alembic_config(database_url: str) -> Config:
    cfg = Config(str(BACKEND_DIR / "alembic.ini"))
    cfg.set_main_option("script_location", str(BACKEND_DIR / "alembic"))
    cfg.attributes["database_url"] = database_url
    cfg.attributes["skip_logging_config"] = True
    return cfg


RATE_LIMIT_WINDOW_SECONDS = 60  # the limiter's fixed window (app/core/rate_limit.py)
RATE_LIMIT_MARGIN_SECONDS = 15  # more than any rate-limit test takes from its first counted attempt to its last


@pytest.fixture
def one_rate_limit_window():
    """The test's counted attempts fall into one rate-limit window: a window ending mid-test would
    reset the count. Near the end of one, wait for the next to begin (a known instant, not a guess)."""
    remaining = RATE_LIMIT_WINDOW_SECONDS - time.time() % RATE_LIMIT_WINDOW_SECONDS
    if remaining < RATE_LIMIT_MARGIN_SECONDS:
        time.sleep(remaining + 0.05)


@pytest.fixture(scope="session")
def run_id() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def database_url(run_id: str):
    name = f"{product.SLUG}_test_{run_id}"
    url = create_database(name)
    try:
        command.upgrade(alembic_config(url), "head")
        yield url
    finally:
        drop_database(name)


@pytest.fixture(scope="session")
def payment_provider():
    stub = PaymentProviderStub().start()
    yield stub
    stub.stop()


@pytest.fixture(scope="session")
def redis_prefix(run_id: str) -> str:
    return f"nstest:{run_id}:"


@pytest.fixture
def settings(database_url: str, redis_prefix: str, payment_provider: PaymentProviderStub) -> Settings:
    return Settings(
        DATABASE_URL=database_url,
        REDIS_URL=TEST_REDIS_URL,
        REDIS_KEY_PREFIX=redis_prefix,
        DB_POOL_SIZE=4,
        DB_MAX_OVERFLOW=2,
        PAYMENT_PROVIDER_URL=payment_provider.url,
        PAYMENT_TIMEOUT_SECONDS=0.5,
        RATE_LIMIT_AUTH_PER_MINUTE=1000,
        MAX_BODY_BYTES=65536,
        ANALYTICS_DELIVERY_ENABLED=False,  # delivery has its own tests (tests/test_resilience.py)
        # every test starts an app in this one process: frozen apps would never be freed
        # (tests/test_gc_freeze.py turns it on)
        GC_FREEZE_AFTER_STARTUP=False,
        # a test's requests at SENTRY_TRACES_SAMPLE_RATE=1.0 are all traced, however fast they
        # come (tests/test_trace_budget.py tests the budget)
        SENTRY_TRACES_MAX_PER_SECOND=0,
    )


@pytest.fixture
async def db(database_url: str, redis_prefix: str, payment_provider: PaymentProviderStub) -> AsyncIterator[asyncpg.Connection]:
    """A raw connection for assertions; cleans PostgreSQL and this run's Redis keys after the test."""
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        yield conn
    finally:
        await conn.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
        await conn.close()
        redis = Redis.from_url(TEST_REDIS_URL)
        try:
            keys = [k async for k in redis.scan_iter(match=f"{redis_prefix}*", count=500)]
            if keys:
                await redis.delete(*keys)
        finally:
            await redis.aclose()
        payment_provider.reset()


class AppRunner:
    """Builds the app with given settings and runs its lifespan around an httpx client."""

    def __init__(self) -> None:
        self._stack: list = []

    async def client(self, settings: Settings, client_addr: tuple[str, int] = ("127.0.0.1", 50000)) -> httpx.AsyncClient:
        app = create_app(settings)
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        transport = httpx.ASGITransport(app=app, client=client_addr)
        client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        self._stack.append((client, lifespan))
        return client

    async def close(self) -> None:
        """Close every client and end its app's lifespan (background loops stop); idempotent."""
        while self._stack:
            client, lifespan = self._stack.pop()
            await client.aclose()
            await lifespan.__aexit__(None, None, None)


@pytest.fixture
async def make_client(db) -> AsyncIterator[AppRunner]:
    runner = AppRunner()
    yield runner
    await runner.close()


@pytest.fixture
async def client(make_client: AppRunner, settings: Settings) -> httpx.AsyncClient:
    return await make_client.client(settings)


async def signup(client: httpx.AsyncClient, email: str = "ada@example.com", password: str = "correct horse",
                 name: str = "Ada") -> dict:
    response = await client.post("/api/auth/signup", json={"email": email, "password": password, "name": name})
    assert response.status_code == 201, response.text
    return response.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def table_counts(conn: asyncpg.Connection) -> dict[str, int]:
    return {t: await conn.fetchval(f"SELECT count(*) FROM {t}") for t in TABLES}


@pytest.fixture
def stub():
    """A local stand-in for Sentry's envelope endpoint (tests/sentry_stub.py), closed after the test."""
    from tests.sentry_stub import SentryStub

    server = SentryStub()
    yield server
    server.close()


@pytest.fixture
def sentry_events(settings):
    """Sentry initialised as in production, with an in-memory transport (sentry-python's test pattern)."""
    import sentry_sdk

    from app.core.sentry import build_options
    from tests.obs_support import CaptureTransport

    transport = CaptureTransport()
    sentry_sdk.init(**build_options(settings, transport=transport))
    yield transport
    sentry_sdk.init(**build_options(settings, transport=CaptureTransport()))


@pytest.fixture
def logs():
    """The app's JSON log lines, as bytes, instead of stdout."""
    import io
    import sys

    from app.core import logging as app_logging

    buf = io.BytesIO()
    app_logging.set_log_stream(buf)
    yield buf
    app_logging.set_log_stream(sys.stdout.buffer)


async def create_migrated_database(server_url: str, name: str = product.SLUG) -> str:
    """Create database `name` on the server of `server_url`, migrate it to head, return its URL."""
    url = server_url.rsplit("/", 1)[0] + "/" + name
    conn = await asyncpg.connect(asyncpg_dsn(server_url))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
    return url
