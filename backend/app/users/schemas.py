import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, ValidationInfo, field_validator

from app.core.types import SafeStr
from app.users.passwords import NewPassword, TrimmedName

Email = Annotated[EmailStr, Field(max_length=254), AfterValidator(str.lower)]


class SignupIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    email: Email
    password: NewPassword
    name: TrimmedName(100)

    @field_validator("password")
    @classmethod
    def _not_the_email(cls, password: str, info: ValidationInfo) -> str:
        email = info.data.get("email")  # absent when the e-mail itself was invalid
        if email and password.strip().lower() in (email, email.split("@", 1)[0]):
            raise ValueError("must not be the e-mail address or a part of it")
        return password


class LoginIn(BaseModel):
    # Any string: login compares it with stored addresses and answers the same 401 for an unknown
    # one; validating its format (email-validator refuses special-use domains such as .test) would
    # only make schema-valid logins fail with a 422 instead.
    email: Annotated[str, Field(min_length=1, max_length=254), AfterValidator(str.lower)]
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
