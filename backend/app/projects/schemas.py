import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator
from pydantic.json_schema import SkipJsonSchema

from app.core.types import SafeStr
from app.users.passwords import TrimmedName

# A PATCH field that may be omitted but not sent as null: the schema says "string" (or "boolean"),
# never null, and an explicit null is a 422 -- what the schema promises, the validation does.
Omittable = SkipJsonSchema[None]


class ProjectIn(BaseModel):
    name: TrimmedName(200)
    description: SafeStr(0, 2000) | None = None


class ProjectPatch(BaseModel):
    name: TrimmedName(200) | Omittable = Field(None, json_schema_extra=lambda s: s.pop("default", None))
    description: SafeStr(0, 2000) | None = None  # null clears it

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
    title: TrimmedName(500)


class TaskPatch(BaseModel):
    title: TrimmedName(500) | Omittable = Field(None, json_schema_extra=lambda s: s.pop("default", None))
    done: StrictBool | Omittable = Field(None, json_schema_extra=lambda s: s.pop("default", None))

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
