"""track_event: add a business event to the outbox inside the caller's transaction.

No commit here: the event is written if and only if the change it describes is committed.
Never put email, password or tokens in properties.
"""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.analytics.models import AnalyticsOutbox
from app.core.correlation import get_request_id

FORBIDDEN_PROPERTY_KEYS = frozenset({"email", "password", "token", "password_hash", "authorization"})


def track_event(session: AsyncSession, event: str, distinct_id: str, properties: dict) -> None:
    leaked = FORBIDDEN_PROPERTY_KEYS.intersection(k.lower() for k in properties)
    if leaked:
        raise ValueError(f"analytics properties must not contain {sorted(leaked)}")
    session.add(
        AnalyticsOutbox(
            insert_id=uuid.uuid4(),
            event=event,
            distinct_id=distinct_id,
            # request_id: the same ID as the access log line, the Sentry tag and the response header.
            properties={**properties, "request_id": get_request_id()} if get_request_id() else dict(properties),
        )
    )
