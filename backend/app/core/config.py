"""Settings from the environment (names as in docs/contracts.md, no prefix)."""

from functools import lru_cache
from typing import Annotated

from pydantic import IPvAnyNetwork, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.core import product

# A list setting given in the environment as "a,b,c" (JSON lists are accepted too).
CommaList = Annotated[list[str], NoDecode]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=True)

    DATABASE_URL: str = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{product.SLUG}"
    REDIS_URL: str = "redis://127.0.0.1:6379/0"
    # Every key this service writes starts with it (lets tests, benches and two products share one Redis).
    REDIS_KEY_PREFIX: str = f"{product.SLUG}:"
    REDIS_SOCKET_TIMEOUT: float = 0.25
    REDIS_MAX_CONNECTIONS: int = 50
    # After a Redis error, skip Redis for this long (cache = miss, rate limit = in-process).
    REDIS_BREAKER_SECONDS: float = 1.0

    # Freeze what start-up allocated out of the garbage collector's walks (app/core/gc_freeze.py).
    GC_FREEZE_AFTER_STARTUP: bool = True

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
    # Per worker: above this many sampled requests a second the rate in force is lowered
    # (app/core/trace_budget.py); 0 = always SENTRY_TRACES_SAMPLE_RATE.
    SENTRY_TRACES_MAX_PER_SECOND: float = 10
    SENTRY_PROFILES_SAMPLE_RATE: float = 0.01
    # Sampled transactions scrubbed, serialized and sent by a child process of each worker
    # (app/core/transaction_handoff.py); false: by the worker itself.
    SENTRY_TRANSACTION_AGENT: bool = True

    MIXPANEL_TOKEN: str = ""
    MIXPANEL_API_URL: str = "http://127.0.0.1:9911/mixpanel"

    PAYMENT_PROVIDER_URL: str = "http://127.0.0.1:9911/payments"
    PAYMENT_TIMEOUT_SECONDS: float = 2
    PRO_PLAN_PRICE_CENTS: int = 1900

    # Per client IP, signup and login counted together; 0 disables the limit.
    RATE_LIMIT_AUTH_PER_MINUTE: int = 20
    # Per client IP and beacon kind (browser errors, anonymous page views); 0 disables the limit.
    RATE_LIMIT_RUM_PER_MINUTE: int = 120
    # Feature adoption gauges (app/analytics/adoption.py): refresh period, what "active" means.
    ADOPTION_REFRESH_SECONDS: float = 30
    ADOPTION_ACTIVE_DAYS: int = 30

    FAULT_INJECTION_ENABLED: bool = False
    FAULT_STATE_FILE: str = ".data/faults.json"
    PROMETHEUS_MULTIPROC_DIR: str = ""
    # How often a worker writes its batched request metrics (app/core/metrics_batch.py); keep it
    # below the fastest scrape interval.
    METRICS_FLUSH_SECONDS: float = 0.25

    MAX_BODY_BYTES: int = 65536

    # --- observability (app/core/sentry.py, app/analytics/worker.py) ---
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

    # --- security (SECURITY.md) ---
    # The one proxy hop whose X-Forwarded-For is believed (app/core/client_address.py): its peer
    # address must be one of these networks AND it must send TRUSTED_PROXY_SECRET in
    # X-Trusted-Proxy-Secret. Empty secret: no proxy is trusted, the TCP peer is the client.
    TRUSTED_PROXY_ADDRESSES: Annotated[list[IPvAnyNetwork], NoDecode] = ["127.0.0.1/32", "::1/128"]  # type: ignore[assignment]
    TRUSTED_PROXY_SECRET: SecretStr = SecretStr("")
    # Origins whose cookie-authenticated state-changing requests are accepted (app/core/csrf.py),
    # besides browser requests marked Sec-Fetch-Site: same-origin.
    CSRF_TRUSTED_ORIGINS: CommaList = ["http://127.0.0.1:3000", "http://localhost:3000"]
    # /docs, /redoc and /openapi.json; None = on everywhere except ENVIRONMENT=production.
    API_DOCS_ENABLED: bool | None = None

    @field_validator("FAULT_INJECTION_ENABLED")
    @classmethod
    def _fault_routes_kept(cls, value: bool) -> bool:
        # A product rendered with keep_fault_routes = false (product.toml) never mounts /_faults.
        return value and product.FAULT_ROUTES

    @field_validator("TRUSTED_PROXY_ADDRESSES", "CSRF_TRUSTED_ORIGINS", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            stripped = value.strip()
            if stripped.startswith("["):
                import json

                return json.loads(stripped)
            return [part.strip() for part in stripped.split(",") if part.strip()]
        return value

    @field_validator("CSRF_TRUSTED_ORIGINS")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        from urllib.parse import urlsplit

        out = []
        for origin in value:
            parts = urlsplit(origin.strip().lower())
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/") \
                    or parts.query or parts.fragment:
                raise ValueError(f"not an origin (scheme://host[:port]): {origin!r}")
            out.append(f"{parts.scheme}://{parts.netloc}")
        return out

    @property
    def api_docs_enabled(self) -> bool:
        if self.API_DOCS_ENABLED is not None:
            return self.API_DOCS_ENABLED
        return self.ENVIRONMENT != "production"


@lru_cache
def get_settings() -> Settings:
    return Settings()
