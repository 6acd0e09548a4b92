import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, model_validator

from app.core.types import SafeStr


class ProjectIn(BaseModel):
    name: SafeStr(1, 200)
    description: SafeStr(0, 2000) | None = None


class ProjectPatch(BaseModel):
    name: SafeStr(1, 200) | None = None
    description: SafeStr(0, 2000) | None = None

    @model_validator(mode="after")
    def name_not_null(self) -> "ProjectPatch":
        if "name" in self.model_fields_set and self.name is None:
            raise ValueError("name cannot be null")
        return self


class ProjectOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    workspace_id: uuid.UUID
    name: str
    description: str | None
    created_at: datetime
    updated_at: datetime


class ProjectPage(BaseModel):
    items: list[ProjectOut]
    total: int
    limit: int
    offset: int


class TaskIn(BaseModel):
    title: SafeStr(1, 500)


class TaskPatch(BaseModel):
    title: SafeStr(1, 500) | None = None
    done: bool | None = None

    @model_validator(mode="after")
    def not_null(self) -> "TaskPatch":
        for field in ("title", "done"):
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        return self


class TaskOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    project_id: uuid.UUID
    title: str
    done: bool
    completed_at: datetime | None
    created_at: datetime


class TaskPage(BaseModel):
    items: list[TaskOut]
    total: int
    limit: int
    offset: int
