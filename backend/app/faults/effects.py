"""What each fault does. Everything here is inert unless app.faults.install() ran
(FAULT_INJECTION_ENABLED=true), because the shared store is None otherwise."""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

import httpx
from redis.asyncio.connection import Connection
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import text
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from app.faults import state as fault_state

log = logging.getLogger(__name__)


class InjectedFault(RuntimeError):
    """Raised by the error_ratio fault: an unhandled exception, seen by Sentry and the metrics."""


class FaultMiddleware:
    """error_ratio, latency_ms and n_plus_one on chosen /api routes (route templates; empty list = all /api)."""

    def __init__(self, app: ASGIApp, router: Any) -> None:
        self.app = app
        self.router = router
        self._routes: list[Any] | None = None

    @staticmethod
    def _flatten(routes: list[Any]) -> list[Any]:
        # FastAPI >= 0.137 keeps included routers as _IncludedRouter entries (matched lazily);
        # their routes carry the router's own prefix, which is all this app uses.
        flat: list[Any] = []
        for route in routes:
            inner = getattr(route, "original_router", None)
            if inner is not None:
                flat.extend(FaultMiddleware._flatten(inner.routes))
            else:
                flat.append(route)
        return flat

    def _match(self, scope: Scope) -> Any:
        if self._routes is None:
            self._routes = self._flatten(self.router.routes)
        for route in self._routes:
            match, _ = route.matches(scope)
            if match == Match.FULL:
                return route
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        faults = fault_state.active()
        if faults.affects_requests:
            route = self._match(scope)
            template = getattr(route, "path", None)
            if faults.latency_ms > 0 and (not faults.latency_routes or template in faults.latency_routes):
                await asyncio.sleep(faults.latency_ms / 1000)
            if faults.n_plus_one > 0 and (not faults.n_plus_one_routes or template in faults.n_plus_one_routes):
                await n_plus_one(scope["app"].state.sessionmaker, faults.n_plus_one)
            if faults.error_ratio > 0 and (not faults.error_routes or template in faults.error_routes):
                if random.random() < faults.error_ratio:
                    if route is not None:
                        scope["route"] = route  # so the metrics carry the route template
                    raise InjectedFault(f"injected error on {template}")
        await self.app(scope, receive, send)


async def n_plus_one(sessionmaker: Any, n: int) -> int:
    """n_plus_one: the classic N+1 query pattern, for real: one query for up to `n` project IDs,
    then one query per project for its task count (what a loop over a lazy relationship does).
    Nothing is returned to the client; the statements are what the fault is for (DB spans of a
    sampled trace, db_query_duration_seconds, latency). Returns the number of statements run."""
    async with sessionmaker() as session:
        ids = (await session.execute(text("SELECT id FROM projects ORDER BY created_at DESC LIMIT :n"),
                                     {"n": n})).scalars().all()
        for project_id in ids:
            await session.execute(text("SELECT count(*) FROM tasks WHERE project_id = :project_id"),
                                  {"project_id": project_id})
    return 1 + len(ids)


class FaultAwareRedisConnection(Connection):
    """redis_down: every command fails as if the server were unreachable."""

    async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        if fault_state.active().redis_down:
            raise RedisConnectionError("Error 111 connecting to redis: connection refused (injected)")
        await super().send_packed_command(command, check_health)

    async def connect(self) -> None:
        if fault_state.active().redis_down:
            raise RedisConnectionError("Error 111 connecting to redis: connection refused (injected)")
        await super().connect()


async def billing_timeout_hook(request: httpx.Request) -> None:
    """httpx request hook: billing_timeout makes the payment provider time out."""
    if fault_state.store is None or not fault_state.active().billing_timeout:
        return
    if "/charges" not in request.url.path:
        return
    timeout = (request.extensions.get("timeout") or {}).get("read") or 2.0
    await asyncio.sleep(timeout)
    raise httpx.ReadTimeout("injected payment provider timeout", request=request)


class PoolHolder:
    """db_pool_hold: check out N connections of this worker's pool and keep them."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.held: list[Any] = []

    async def adjust(self, wanted: int) -> None:
        while len(self.held) > wanted:
            conn = self.held.pop()
            await conn.close()
        while len(self.held) < wanted:
            try:
                conn = await asyncio.wait_for(self.engine.connect(), timeout=1.0)
            except Exception as exc:  # pool already exhausted: hold what we have
                log.warning("db_pool_hold could not check out more connections: %s", type(exc).__name__)
                return
            self.held.append(conn)

    async def run(self, interval: float = 0.5) -> None:
        try:
            while True:
                wanted = fault_state.active().db_pool_hold
                if wanted != len(self.held):
                    await self.adjust(wanted)
                await asyncio.sleep(interval)
        finally:
            for conn in self.held:
                try:
                    await conn.close()
                except Exception:
                    pass
            self.held.clear()
