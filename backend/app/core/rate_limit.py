"""Fixed-window rate limiting per (scope, client IP), in Redis.

When Redis is unreachable the limiter falls back to a small in-process fixed window, so login
is neither blocked nor unlimited during a Redis outage. The fallback counts per worker process,
so with N workers a client gets at most N x the limit while Redis is down.
"""

import logging
import math
import time

from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.core.redis import RedisBreaker

log = logging.getLogger(__name__)


class InProcessWindowCounter:
    """Hand-written because no maintained library offers an in-memory fixed window we can
    share this exact key scheme with; bounded to max_keys entries."""

    def __init__(self, max_keys: int = 10_000) -> None:
        self.max_keys = max_keys
        self.counts: dict[str, tuple[int, float]] = {}

    def incr(self, key: str, window_ends_at: float, now: float) -> int:
        if len(self.counts) >= self.max_keys:
            self.counts = {k: v for k, v in self.counts.items() if v[1] > now}
            if len(self.counts) >= self.max_keys:
                self.counts.clear()
        count, ends = self.counts.get(key, (0, window_ends_at))
        count += 1
        self.counts[key] = (count, ends)
        return count


class RateLimiter:
    def __init__(self, redis: Redis, prefix: str, breaker: RedisBreaker | None = None) -> None:
        self.redis = redis
        self.prefix = prefix
        self.breaker = breaker or RedisBreaker()
        self.fallback = InProcessWindowCounter()
        self.degraded = False

    async def hit(self, scope: str, client: str, limit: int, window_seconds: int = 60) -> int | None:
        """Count one hit. Returns None if allowed, else the seconds until the window resets."""
        if limit <= 0:
            return None
        now = time.time()
        window = int(now // window_seconds)
        window_ends_at = (window + 1) * window_seconds
        key = f"{self.prefix}rl:{scope}:{client}:{window}"
        count = None
        if not self.breaker.is_open():
            try:
                async with self.redis.pipeline(transaction=True) as pipe:
                    pipe.incr(key)
                    pipe.expire(key, window_seconds + 1)
                    count, _ = await pipe.execute()
                self.degraded = False
            except (RedisError, OSError) as exc:
                self.breaker.trip()
                if not self.degraded:
                    log.warning("rate limiter: Redis unavailable (%s), in-process fallback", type(exc).__name__)
                self.degraded = True
        if count is None:
            count = self.fallback.incr(key, window_ends_at, now)
        if count > limit:
            return max(1, math.ceil(window_ends_at - now))
        return None
