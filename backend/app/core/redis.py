"""One shared redis.asyncio connection pool, and helpers that degrade instead of raising.

A Redis outage must never fail a request: reads become cache misses, writes are dropped.
Callers that need to know (the rate limiter) catch RedisError themselves. After an error a
RedisBreaker skips Redis for a short while, so an unreachable (black-holed) Redis costs one
socket timeout per breaker period instead of one per operation.
"""

import logging
import time
from typing import Any

from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.client import Pipeline
from redis.asyncio.connection import Connection
from redis.exceptions import RedisError

from app.core import trace_spans
from app.core.config import Settings
from app.core.metrics import record_cache

log = logging.getLogger(__name__)


class TracedRedis(Redis):
    """redis.asyncio's client whose commands are spans inside a sampled transaction
    (app/core/trace_spans.py). `execute_command` returns the awaitable as the base class's does:
    outside a sampled transaction a command costs one check more, not another coroutine."""

    key_prefix = ""

    def execute_command(self, *args: Any, **options: Any) -> Any:
        parent = trace_spans.sampled_parent()
        command = Redis.execute_command(self, *args, **options)
        if parent is None:
            return command
        return trace_spans.traced_command(parent, command, args, self.key_prefix,
                                          trace_spans.redis_span_data(self.connection_pool.connection_kwargs))

    def pipeline(self, transaction: bool = True, shard_hint: str | None = None) -> Pipeline:
        return TracedPipeline(self.connection_pool, self.response_callbacks, transaction, shard_hint)


class TracedPipeline(Pipeline):
    """A pipeline whose execute() is one span inside a sampled transaction."""

    def execute(self, raise_on_error: bool = True) -> Any:  # type: ignore[override]
        parent = trace_spans.sampled_parent()
        if parent is None:
            return Pipeline.execute(self, raise_on_error)
        names = [str(args[0]).upper() for args, _ in self.command_stack]
        return trace_spans.traced_pipeline(parent, Pipeline.execute(self, raise_on_error), names,
                                           self.is_transaction,
                                           trace_spans.redis_span_data(self.connection_pool.connection_kwargs))


def create_redis(settings: Settings, connection_class: type[Connection] = Connection) -> Redis:
    """`connection_class`: redis-py's own, or one that wraps it (the redis_down fault's).
    The client is a TracedRedis: its commands are spans of sampled transactions."""
    pool = ConnectionPool.from_url(
        settings.REDIS_URL,
        max_connections=settings.REDIS_MAX_CONNECTIONS,
        socket_timeout=settings.REDIS_SOCKET_TIMEOUT,
        socket_connect_timeout=settings.REDIS_SOCKET_TIMEOUT,
        health_check_interval=30,
        connection_class=connection_class,
    )
    client = TracedRedis(connection_pool=pool)
    client.key_prefix = settings.REDIS_KEY_PREFIX
    return client


class RedisBreaker:
    """Open for open_seconds after a Redis error; then the next call tries Redis again.

    Hand-written: a dozen lines, and the circuit-breaker packages on PyPI are sync-only or
    unmaintained."""

    def __init__(self, open_seconds: float = 1.0) -> None:
        self.open_seconds = open_seconds
        self._open_until = 0.0

    def is_open(self) -> bool:
        return time.monotonic() < self._open_until

    def trip(self) -> None:
        self._open_until = time.monotonic() + self.open_seconds


class Cache:
    """Thin key-value cache on top of the shared client; every Redis error is a miss/no-op."""

    def __init__(self, redis: Redis, prefix: str, breaker: RedisBreaker | None = None) -> None:
        self.redis = redis
        self.prefix = prefix
        self.breaker = breaker or RedisBreaker()

    def key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    async def get(self, key: str) -> bytes | None:
        cache_name = key[len(self.prefix):].partition(":")[0]  # "project", "session": bounded
        if self.breaker.is_open():
            record_cache(cache_name, "error")
            return None
        try:
            value = await self.redis.get(key)
        except (RedisError, OSError) as exc:
            self.breaker.trip()
            record_cache(cache_name, "error")
            log.warning("redis get failed, treating as miss: %s", type(exc).__name__)
            return None
        record_cache(cache_name, "miss" if value is None else "hit")
        return value

    async def set(self, key: str, value: bytes | str, ttl_seconds: int) -> bool:
        if self.breaker.is_open():
            return False
        try:
            await self.redis.set(key, value, ex=ttl_seconds)
            return True
        except (RedisError, OSError) as exc:
            self.breaker.trip()
            log.warning("redis set failed, skipped: %s", type(exc).__name__)
            return False

    async def delete(self, *keys: str) -> bool:
        if self.breaker.is_open():
            return False
        try:
            await self.redis.delete(*keys)
            return True
        except (RedisError, OSError) as exc:
            self.breaker.trip()
            log.warning("redis delete failed: %s", type(exc).__name__)
            return False
