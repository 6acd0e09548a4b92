"""Exactly-once check for business events: outbox rows in PostgreSQL against what the Mixpanel
stand-in received (`$insert_id` is the outbox row's insert_id, see backend/app/analytics/worker.py)."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass

import asyncpg


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _rows(database_url: str, since_epoch: float) -> list[tuple[str, bool]]:
    conn = await asyncpg.connect(_dsn(database_url), timeout=5)
    try:
        rows = await conn.fetch(
            "SELECT insert_id::text AS id, delivered_at IS NOT NULL AS delivered FROM analytics_outbox "
            "WHERE created_at >= to_timestamp($1)", since_epoch)
    finally:
        await conn.close()
    return [(r["id"], r["delivered"]) for r in rows]


def outbox_rows(database_url: str, since_epoch: float) -> list[tuple[str, bool]]:
    """(insert_id, delivered?) of every outbox row written since `since_epoch`."""
    return asyncio.run(_rows(database_url, since_epoch))


@dataclass
class ExactlyOnce:
    events: int
    undelivered: list[str]
    missing: list[str]  # delivered per the outbox but never received
    duplicated: dict[str, int]

    def failures(self) -> list[str]:
        out = []
        if self.undelivered:
            out.append(f"{len(self.undelivered)} of {self.events} business events still in the outbox "
                       f"(e.g. {self.undelivered[:3]})")
        if self.missing:
            out.append(f"{len(self.missing)} business events marked delivered never reached Mixpanel "
                       f"(e.g. {self.missing[:3]})")
        if self.duplicated:
            sample = dict(list(self.duplicated.items())[:3])
            out.append(f"{len(self.duplicated)} business events reached Mixpanel more than once ({sample})")
        return out


def compare(rows: list[tuple[str, bool]], captured: list[dict]) -> ExactlyOnce:
    """rows: outbox (insert_id, delivered); captured: capture-server items of kind mixpanel."""
    received = Counter(str((item.get("event") or {}).get("properties", {}).get("$insert_id", ""))
                       for item in captured)
    received.pop("", None)
    ids = [r[0] for r in rows]
    return ExactlyOnce(
        events=len(ids),
        undelivered=[i for i, delivered in rows if not delivered],
        missing=[i for i, delivered in rows if delivered and i not in received],
        duplicated={i: n for i, n in received.items() if n > 1},
    )
