"""Business counters (signups_total, ...) incremented only once the transaction that wrote the
business event has committed: a rolled-back signup is neither counted nor sent to Mixpanel.

SQLAlchemy session events: outbox rows flushed in a session are remembered in session.info and
counted in after_commit; after_rollback forgets them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.analytics.models import AnalyticsOutbox
from app.core import metrics

_PENDING = "ns_business_events"
_installed = False


def _count(name: str, properties: dict) -> None:
    if name == "signed_up":
        metrics.signups_total.inc()
    elif name == "project_created":
        metrics.projects_created_total.inc()
    elif name == "task_completed":
        metrics.tasks_completed_total.inc()
    elif name == "plan_upgraded":
        metrics.plan_upgrades_total.labels(str(properties.get("plan", "unknown"))[:20]).inc()


def _after_flush(session: Session, _flush_context: Any) -> None:
    new = [(o.event, o.properties or {}) for o in session.new if isinstance(o, AnalyticsOutbox)]
    if new:
        session.info.setdefault(_PENDING, []).extend(new)


def _after_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending:
        for name, properties in pending:
            _count(name, properties)


def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def install() -> None:
    global _installed
    if _installed:
        return
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_rollback", _after_rollback)
    _installed = True
