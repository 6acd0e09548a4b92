"""Feature adoption as gauges derived from PostgreSQL, refreshed off the request path.

adoption = workspaces that created a project and completed a task / active workspaces, where a
workspace is active when its owner started a session (sign-up or login) in the last
ADOPTION_ACTIVE_DAYS days. Why a DB-derived gauge and not counters of first events: a share of
*active* workspaces has a moving denominator (workspaces become active and inactive as time passes,
with no event marking it), and the database already holds the truth; counters of "first project"
events would never decrease and would miss workspaces seeded or migrated without events.

One query every ADOPTION_REFRESH_SECONDS per worker, in a background task; the gauges are
`livemostrecent` (the latest refresh of any live worker wins). A failing database leaves the last
values in place and logs a warning: adoption is a business signal, never worth an error.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from prometheus_client import Gauge
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)

workspaces_active = Gauge(
    "workspaces_active", "Workspaces whose owner started a session in the last ADOPTION_ACTIVE_DAYS days",
    multiprocess_mode="livemostrecent",
)
workspaces_with_project = Gauge(
    "workspaces_with_project", "Active workspaces that created at least one project", multiprocess_mode="livemostrecent",
)
workspaces_adopted = Gauge(
    "workspaces_adopted", "Active workspaces that created a project and completed a task in it",
    multiprocess_mode="livemostrecent",
)

_ADOPTION = text(
    """
    WITH active AS (
      SELECT w.id FROM workspaces w
      WHERE EXISTS (SELECT 1 FROM auth_sessions s
                    WHERE s.user_id = w.owner_id AND s.created_at > now() - make_interval(days => :days))
    )
    SELECT count(*) AS active,
           count(*) FILTER (WHERE EXISTS (SELECT 1 FROM projects p WHERE p.workspace_id = a.id)) AS with_project,
           count(*) FILTER (WHERE EXISTS (SELECT 1 FROM projects p JOIN tasks t ON t.project_id = p.id
                                          WHERE p.workspace_id = a.id AND t.done)) AS adopted
    FROM active a
    """
)


class AdoptionSampler:
    def __init__(self, engine: Any, interval: float, active_days: int) -> None:
        self.engine = engine
        self.interval = interval
        self.active_days = active_days

    async def refresh(self) -> tuple[int, int, int]:
        async with self.engine.connect() as conn:
            row = (await conn.execute(_ADOPTION, {"days": self.active_days})).one()
        workspaces_active.set(row.active)
        workspaces_with_project.set(row.with_project)
        workspaces_adopted.set(row.adopted)
        return row.active, row.with_project, row.adopted

    async def run(self) -> None:
        while True:
            try:
                await self.refresh()
            except (SQLAlchemyError, OSError) as exc:
                log.warning("adoption gauges not refreshed: %s", type(exc).__name__)
            await asyncio.sleep(self.interval)
