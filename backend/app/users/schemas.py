import uuid
from datetime import datetime
from typing import Annotated, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from app.core.types import SafeStr
from app.users.passwords import NewPassword, TrimmedName

def _email(value: str) -> str:
    """An e-mail address as email-validator (what pydantic's EmailStr uses) accepts it, except that
    the `.test` names RFC 2606 reserves for testing are allowed: schemathesis and the template's own
    tests sign up with them. Other special-use names (localhost, .invalid, ...) are still refused."""
    try:
        return validate_email(value, check_deliverability=False, test_environment=True).normalized.lower()
    except EmailNotValidError as exc:
        raise ValueError(f"value is not a valid email address: {exc}") from None


Email = Annotated[str, Field(max_length=254, json_schema_extra={"format": "email"}), AfterValidator(_email)]


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
