"""Password and display-name rules of NIST SP 800-63B (5.1.1.2, memorized secrets).

- at least 8 characters (code points), at most 128; every printable character and space allowed;
- no composition rules (no "one digit, one symbol"), no periodic change;
- not a commonly used password: common_passwords.txt ships the most common ones of 8+ characters
  (compared case-insensitively, surrounding whitespace ignored), and not the account's own e-mail
  address or its local part;
- not only whitespace.
Names are trimmed and must not be empty after trimming.

The JSON schema of these fields carries what JSON Schema can say (lengths, "has a non-space
character"); the common-password list is enforced here and answered with 422 like every other
field error.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, Field

from app.core.types import SafeStr

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128
_LIST = Path(__file__).with_name("common_passwords.txt")

# "Has a character that is not whitespace", whitespace being exactly what str.isspace() / str.strip()
# mean (all of Unicode White_Space plus U+001C..U+001F), so the schema and the trimming agree.
# Anchored, and without NUL anywhere (app/core/types.py: PostgreSQL text cannot hold it), so that
# the schema states both rules the validators apply.
NOT_BLANK_PATTERN = (r"^[^\x00]*[^\x00\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
                     r"[^\x00]*$")


@functools.cache
def common_passwords() -> frozenset[str]:
    lines = _LIST.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def is_common(password: str) -> bool:
    return password.strip().lower() in common_passwords()


def _password(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be only whitespace")
    if is_common(value):
        raise ValueError("is one of the most commonly used passwords; choose another")
    return value


def _trimmed(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be empty or only whitespace")
    return value


NewPassword = Annotated[
    SafeStr(MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH),
    AfterValidator(_password),
    Field(json_schema_extra={"pattern": NOT_BLANK_PATTERN},
          description="8-128 characters, not only whitespace, not a commonly used password"),
]


def TrimmedName(max_length: int):  # noqa: N802 - reads like a type
    """Text trimmed of surrounding whitespace, non-empty afterwards, at most max_length before."""
    return Annotated[
        SafeStr(1, max_length),
        AfterValidator(_trimmed),
        Field(json_schema_extra={"pattern": NOT_BLANK_PATTERN}),
    ]
