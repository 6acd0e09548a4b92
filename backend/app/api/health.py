"""/ready (send this instance traffic?) and /health (how is it, and what it depends on).

The probe semantics (docs/contracts.md "Probe semantics"):
- /ready fails only for what makes this instance unable to serve: its own start-up and drain
  (app/core/readiness.py: false until start-up has finished and again from SIGTERM/SIGINT on, so a
  load balancer stops sending traffic while in-flight requests drain) and PostgreSQL, which every
  API route needs. Redis is not checked: the API degrades around it (cache misses go to
  PostgreSQL, sessions and rate limits fall back), so a Redis outage must not pull every
  instance out of rotation at once. Load balancers and Kubernetes readiness probes use /ready.
- /health reports each dependency: Redis failing is `"status": "degraded"` with HTTP 200 and
  its name in `degraded`; 503 (`"unhealthy"`) only when the instance cannot serve (PostgreSQL
  unreachable, or starting/draining).

Checks run concurrently, each with a short timeout, and name a failing dependency as "error" or
"timeout" -- never with exception text (the seed leaked it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.core.readiness import lifecycle_state

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])

CHECK_TIMEOUT_SECONDS = 1.0
# Dependencies the API keeps serving without (degraded, slower): never a reason to be unready.
DEGRADABLE = ("redis",)
NO_STORE = {"Cache-Control": "no-store"}


async def _check(name: str, probe: Callable[[], Awaitable[object]], timeout: float) -> str:
    try:
        await asyncio.wait_for(probe(), timeout)
        return "ok"
    except TimeoutError:
        log.warning("health check timed out", extra={"dependency": name})
        return "timeout"
    except Exception as exc:  # any failure of the dependency; its text stays out of the response
        log.warning("health check failed", extra={"dependency": name, "error_type": type(exc).__name__})
        return "error"


def _database_probe(request: Request) -> Callable[[], Awaitable[None]]:
    engine = request.app.state.engine

    async def database() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    return database


@router.get("/health")
async def health(request: Request) -> JSONResponse:
    state = request.app.state

    async def redis() -> None:
        await state.redis.ping()

    db_status, redis_status = await asyncio.gather(
        _check("database", _database_probe(request), CHECK_TIMEOUT_SECONDS),
        _check("redis", redis, CHECK_TIMEOUT_SECONDS),
    )
    checks = {"database": db_status, "redis": redis_status}
    degraded = [name for name in DEGRADABLE if checks[name] != "ok"]
    lifecycle = lifecycle_state(state)
    if db_status != "ok" or lifecycle != "serving":
        body: dict = {"status": "unhealthy", "checks": checks}
        if lifecycle != "serving":
            body["instance"] = lifecycle
        return JSONResponse(body, status_code=503, headers=NO_STORE)
    if degraded:
        return JSONResponse({"status": "degraded", "degraded": degraded, "checks": checks}, headers=NO_STORE)
    return JSONResponse({"status": "healthy", "checks": checks}, headers=NO_STORE)


@router.get("/ready")
async def ready(request: Request) -> JSONResponse:
    lifecycle = lifecycle_state(request.app.state)
    if lifecycle != "serving":
        return JSONResponse({"ready": False, "reason": lifecycle}, status_code=503, headers=NO_STORE)
    if await _check("database", _database_probe(request), CHECK_TIMEOUT_SECONDS) != "ok":
        return JSONResponse({"ready": False, "reason": "database"}, status_code=503, headers=NO_STORE)
    return JSONResponse({"ready": True}, headers=NO_STORE)
