"""Imports every model module so Base.metadata is complete (Alembic autogenerate, tests)."""

from app.analytics.models import AnalyticsOutbox
from app.billing.models import Charge
from app.core.db import Base
from app.projects.models import Project, Task
from app.users.models import AuthSession, User, Workspace

__all__ = ["AnalyticsOutbox", "AuthSession", "Base", "Charge", "Project", "Task", "User", "Workspace"]
