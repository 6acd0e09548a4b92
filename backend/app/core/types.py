"""Input string types: reject what PostgreSQL text cannot store (NUL, lone surrogates) as 422."""

from typing import Annotated

from pydantic import AfterValidator, StringConstraints


def _storable(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


# In the schema too, so that clients (and schemathesis) know a NUL is refused.
NO_NUL_PATTERN = r"^[^\x00]*$"


def SafeStr(min_length: int = 0, max_length: int | None = None):  # noqa: N802 - reads like a type
    return Annotated[str, StringConstraints(min_length=min_length, max_length=max_length, pattern=NO_NUL_PATTERN),
                     AfterValidator(_storable)]
