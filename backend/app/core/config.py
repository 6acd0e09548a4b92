"""Settings from the environment (names as in docs/contracts.md, no prefix)."""

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=True)

    DATABASE_URL: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/northstar"
    REDIS_URL: str = "redis://127.0.0.1:6379/0"
    # Every key this service writes starts with it (lets tests and benches share one Redis).
    REDIS_KEY_PREFIX: str = "ns:"
    REDIS_SOCKET_TIMEOUT: float = 0.25
    REDIS_MAX_CONNECTIONS: int = 50
    # After a Redis error, skip Redis for this long (cache = miss, rate limit = in-process).
    REDIS_BREAKER_SECONDS: float = 1.0

    DB_POOL_SIZE: int = 10
    DB_MAX_OVERFLOW: int = 5
    DB_POOL_TIMEOUT: float = 5
    # Retry-After of the 503 answered while PostgreSQL is unreachable or the pool exhausted.
    DB_RETRY_AFTER_SECONDS: int = 5
    DB_ECHO: bool = False

    ENVIRONMENT: str = "development"
    GIT_SHA: str = "unknown"
    LOG_LEVEL: str = "INFO"

    SENTRY_DSN: str = ""
    SENTRY_SPOTLIGHT_URL: str = "http://127.0.0.1:8969/stream"
    SENTRY_TRACES_SAMPLE_RATE: float = 0.1
    SENTRY_PROFILES_SAMPLE_RATE: float = 0.01

    MIXPANEL_TOKEN: str = ""
    MIXPANEL_API_URL: str = "http://127.0.0.1:9911/mixpanel"

    PAYMENT_PROVIDER_URL: str = "http://127.0.0.1:9911/payments"
    PAYMENT_TIMEOUT_SECONDS: float = 2
    PRO_PLAN_PRICE_CENTS: int = 1900

    # Per client IP, signup and login counted together; 0 disables the limit.
    RATE_LIMIT_AUTH_PER_MINUTE: int = 20

    FAULT_INJECTION_ENABLED: bool = False
    FAULT_STATE_FILE: str = ".data/faults.json"
    PROMETHEUS_MULTIPROC_DIR: str = ""

    MAX_BODY_BYTES: int = 65536

    # --- observability (app/core/sentry.py, app/analytics/worker.py) ---
    # Sentry spans/breadcrumbs for every SQL statement and Redis command (costly, see app/core/sentry.py).
    SENTRY_DB_SPANS: bool = False
    MIXPANEL_TIMEOUT_SECONDS: float = 5
    ANALYTICS_DELIVERY_ENABLED: bool = True
    ANALYTICS_POLL_SECONDS: float = 1.0
    ANALYTICS_BATCH_SIZE: int = 50
    ANALYTICS_RETRY_BASE_SECONDS: float = 1.0
    ANALYTICS_RETRY_MAX_SECONDS: float = 300.0

    SESSION_TTL_SECONDS: int = 14 * 24 * 3600
    # How long an authenticated session is remembered in Redis (bounds staleness after a logout
    # that could not reach Redis).
    SESSION_CACHE_SECONDS: int = 30
    PROJECT_CACHE_SECONDS: int = 300
    COOKIE_SECURE: bool = False


@lru_cache
def get_settings() -> Settings:
    return Settings()
