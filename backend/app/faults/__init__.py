"""Fault injection for load/alert tests. Nothing here is wired unless FAULT_INJECTION_ENABLED=true."""

from __future__ import annotations

from typing import Any

from app.faults import state as fault_state


def install(app: Any, state_file: str) -> None:
    """Mount /_faults and the request-fault middleware (call only when the setting is true)."""
    from app.faults.effects import FaultMiddleware
    from app.faults.routes import router

    fault_state.store = fault_state.FaultStore(state_file)
    app.include_router(router)
    app.add_middleware(FaultMiddleware, router=app.router)
    app.state.faults_enabled = True


def redis_connection_class(enabled: bool) -> Any:
    """The redis connection class create_redis should use."""
    if not enabled:
        from redis.asyncio.connection import Connection

        return Connection
    from app.faults.effects import FaultAwareRedisConnection

    return FaultAwareRedisConnection
