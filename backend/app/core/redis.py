"""One shared redis.asyncio connection pool, and helpers that degrade instead of raising.

A Redis outage must never fail a request: reads become cache misses, writes are dropped.
Callers that need to know (the rate limiter) catch RedisError themselves.
"""

import logging

from redis.asyncio import ConnectionPool, Redis
from redis.exceptions import RedisError

from app.core.config import Settings
from app.core.metrics import record_cache
from app.faults import redis_connection_class

log = logging.getLogger(__name__)


def create_redis(settings: Settings) -> Redis:
    pool = ConnectionPool.from_url(
        settings.REDIS_URL,
        max_connections=settings.REDIS_MAX_CONNECTIONS,
        socket_timeout=settings.REDIS_SOCKET_TIMEOUT,
        socket_connect_timeout=settings.REDIS_SOCKET_TIMEOUT,
        health_check_interval=30,
        connection_class=redis_connection_class(settings.FAULT_INJECTION_ENABLED),  # redis_down fault
    )
    return Redis(connection_pool=pool)


class Cache:
    """Thin key-value cache on top of the shared client; every Redis error is a miss/no-op."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix

    def key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    async def get(self, key: str) -> bytes | None:
        cache_name = key[len(self.prefix):].partition(":")[0]  # "project", "session": bounded
        try:
            value = await self.redis.get(key)
        except (RedisError, OSError) as exc:
            record_cache(cache_name, "error")
            log.warning("redis get failed, treating as miss: %s", type(exc).__name__)
            return None
        record_cache(cache_name, "miss" if value is None else "hit")
        return value

    async def set(self, key: str, value: bytes | str, ttl_seconds: int) -> bool:
        try:
            await self.redis.set(key, value, ex=ttl_seconds)
            return True
        except (RedisError, OSError) as exc:
            log.warning("redis set failed, skipped: %s", type(exc).__name__)
            return False

    async def delete(self, *keys: str) -> bool:
        try:
            await self.redis.delete(*keys)
            return True
        except (RedisError, OSError) as exc:
            log.warning("redis delete failed: %s", type(exc).__name__)
            return False
