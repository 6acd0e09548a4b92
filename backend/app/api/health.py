"""/health (dependencies) and /ready (this process accepts traffic).

/health checks PostgreSQL and Redis concurrently, each with a short timeout, and names a failing
dependency as "error" or "timeout" -- never with exception text (the seed leaked it).
/ready is false until start-up has finished and false again as soon as shutdown begins
(SIGTERM/SIGINT, see app/core/readiness.py), so a load balancer stops sending traffic while
in-flight requests drain.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.core.readiness import is_ready

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])

CHECK_TIMEOUT_SECONDS = 1.0


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


@router.get("/health")
async def health(request: Request) -> JSONResponse:
    state = request.app.state

    async def database() -> None:
        async with state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def redis() -> None:
        await state.redis.ping()

    db_status, redis_status = await asyncio.gather(
        _check("database", database, CHECK_TIMEOUT_SECONDS),
        _check("redis", redis, CHECK_TIMEOUT_SECONDS),
    )
    checks = {"database": db_status, "redis": redis_status}
    healthy = db_status == "ok" and redis_status == "ok"
    return JSONResponse(
        {"status": "healthy" if healthy else "unhealthy", "checks": checks},
        status_code=200 if healthy else 503,
        headers={"Cache-Control": "no-store"},
    )


@router.get("/ready")
async def ready(request: Request) -> JSONResponse:
    ready = is_ready(request.app.state)
    return JSONResponse({"ready": ready}, status_code=200 if ready else 503,
                        headers={"Cache-Control": "no-store"})
