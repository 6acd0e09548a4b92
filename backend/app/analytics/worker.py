"""Outbox delivery: business events from PostgreSQL to Mixpanel, never on a request's path.

Runs as a background task in every worker process's lifespan, but only one process sends at a
time: each cycle takes a transaction-scoped PostgreSQL advisory lock (pg_try_advisory_xact_lock)
and skips if another process holds it; rows are also claimed FOR UPDATE SKIP LOCKED. No leader
election to lose on a database restart: the next cycle simply tries again.

Each cycle sends at most one batch (<= 50 events, one HTTP request) with the official `mixpanel`
SDK (BufferedConsumer pointed at MIXPANEL_API_URL, request_timeout set, SDK retries off: we retry
with backoff ourselves). The SDK is synchronous, so the send runs in a thread. `$insert_id` is
the outbox row's insert_id, so a batch re-sent after an ambiguous failure is de-duplicated by
Mixpanel; `time` is when the event happened. On failure: attempts+1, next_attempt_at with
exponential backoff, last_error (the exception type only). Outbox depth / oldest age gauges and
delivered/failure counters are updated every cycle.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from mixpanel import BufferedConsumer, Mixpanel, MixpanelException
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.core import metrics
from app.core.config import Settings

log = logging.getLogger(__name__)

ADVISORY_LOCK_KEY = 0x4E53_4F42  # "NSOB"
MAX_BATCH = 50  # Mixpanel's /track batch limit

_CLAIM = text(
    """
    SELECT id, insert_id, event, distinct_id, properties, created_at, attempts
    FROM analytics_outbox
    WHERE delivered_at IS NULL AND next_attempt_at <= now()
    ORDER BY id
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
    """
)
_BACKLOG = text(
    "SELECT count(*), extract(epoch FROM now() - min(created_at)) FROM analytics_outbox WHERE delivered_at IS NULL"
)
_MARK_DELIVERED = text(
    "UPDATE analytics_outbox SET delivered_at = now(), attempts = attempts + 1, last_error = NULL "
    "WHERE id = ANY(:ids)"
)
_MARK_FAILED = text(
    "UPDATE analytics_outbox SET attempts = attempts + 1, last_error = :error, "
    "next_attempt_at = now() + make_interval(secs => LEAST(:max_delay, :base * power(2, attempts))) "
    "WHERE id = ANY(:ids)"
)


class MixpanelSender:
    """Builds the SDK objects per batch (a failed BufferedConsumer keeps its buffer)."""

    def __init__(self, token: str, api_url: str, timeout_seconds: float) -> None:
        base = api_url.rstrip("/")
        self.token = token or "local-token"
        self.events_url = base + "/track"
        self.import_url = base + "/import"
        self.timeout = timeout_seconds

    def send(self, rows: list[Any]) -> None:
        consumer = BufferedConsumer(
            max_size=MAX_BATCH,
            events_url=self.events_url,
            import_url=self.import_url,
            request_timeout=self.timeout,
            retry_limit=0,
        )
        mp = Mixpanel(self.token, consumer=consumer)
        for row in rows:
            properties = dict(row.properties or {})
            properties["time"] = row.created_at.timestamp()
            properties["$insert_id"] = str(row.insert_id)
            mp.track(row.distinct_id, row.event, properties)
        consumer.flush()


class OutboxDelivery:
    def __init__(self, engine: AsyncEngine, sender: MixpanelSender, *, batch_size: int = MAX_BATCH,
                 poll_seconds: float = 1.0, retry_base_seconds: float = 1.0, retry_max_seconds: float = 300.0) -> None:
        self.engine = engine
        self.sender = sender
        self.batch_size = min(batch_size, MAX_BATCH)
        self.poll_seconds = poll_seconds
        self.retry_base_seconds = retry_base_seconds
        self.retry_max_seconds = retry_max_seconds

    async def cycle(self) -> int:
        """One delivery attempt. Returns the number of rows sent successfully."""
        async with self.engine.begin() as conn:
            if not await conn.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": ADVISORY_LOCK_KEY}):
                return 0
            depth, oldest_age = (await conn.execute(_BACKLOG)).one()
            metrics.analytics_outbox_depth.set(depth or 0)
            metrics.analytics_outbox_oldest_age_seconds.set(float(oldest_age or 0.0))
            rows = (await conn.execute(_CLAIM, {"limit": self.batch_size})).all()
            if not rows:
                return 0
            ids = [row.id for row in rows]
            try:
                await asyncio.to_thread(self.sender.send, rows)
            except (MixpanelException, OSError) as exc:
                metrics.analytics_delivery_failures_total.inc()
                log.warning("analytics delivery failed, will retry",
                            extra={"error_type": type(exc).__name__, "events": len(rows)})
                await conn.execute(_MARK_FAILED, {"ids": ids, "error": type(exc).__name__,
                                                  "base": self.retry_base_seconds, "max_delay": self.retry_max_seconds})
                return 0
            await conn.execute(_MARK_DELIVERED, {"ids": ids})
        metrics.analytics_events_delivered_total.inc(len(rows))
        metrics.analytics_outbox_depth.set(max(0, (depth or 0) - len(rows)))
        return len(rows)

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                sent = await self.cycle()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # database down or restarting: keep trying, never crash the app
                failures += 1
                sent = 0
                log.warning("analytics delivery cycle failed", extra={"error_type": type(exc).__name__})
            if sent < self.batch_size:
                delay = self.poll_seconds if failures == 0 else min(self.poll_seconds * 2 ** failures, 30.0)
                await asyncio.sleep(delay)


def create_delivery(settings: Settings) -> tuple[OutboxDelivery, AsyncEngine]:
    # Its own one-connection engine: delivery never competes with requests for the pool.
    engine = create_async_engine(settings.DATABASE_URL, pool_size=1, max_overflow=0, pool_pre_ping=True)
    sender = MixpanelSender(settings.MIXPANEL_TOKEN, settings.MIXPANEL_API_URL, settings.MIXPANEL_TIMEOUT_SECONDS)
    delivery = OutboxDelivery(
        engine, sender,
        batch_size=settings.ANALYTICS_BATCH_SIZE,
        poll_seconds=settings.ANALYTICS_POLL_SECONDS,
        retry_base_seconds=settings.ANALYTICS_RETRY_BASE_SECONDS,
        retry_max_seconds=settings.ANALYTICS_RETRY_MAX_SECONDS,
    )
    return delivery, engine
