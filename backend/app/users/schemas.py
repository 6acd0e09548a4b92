import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field

from app.core.types import SafeStr

Email = Annotated[EmailStr, Field(max_length=254), AfterValidator(str.lower)]


class SignupIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    email: Email
    password: SafeStr(8, 128)
    name: SafeStr(1, 100)


class LoginIn(BaseModel):
    email: Email
    password: SafeStr(1, 128)


class UserOut(BaseModel):
    id: uuid.UUID
    email: str
    name: str
    plan: Literal["free", "pro"]
    workspace_id: uuid.UUID
    created_at: datetime


class AuthOut(BaseModel):
    user: UserOut
    token: str
