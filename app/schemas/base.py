"""Base wire models."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app import i18n
from app.models.base import MAX_ID

# No one types the C0 controls (tab, newline and carriage return aside), and PostgreSQL refuses
# to store NUL at all: text carrying them is refused at the door, on both databases alike. The
# bidirectional embeddings, overrides, isolates and marks go with them: Thai and English need none,
# and they make a title read differently from what it holds ("Trojan Source", CVE-2021-42574).
_CONTROL_CHARACTERS = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
CONTROL_CHARACTERS_MESSAGE = i18n.text("validation.control_characters")


# An id sent in a body: one the database could hold, so a huge number is a 422, not an overflow.
RecordId = Annotated[int, Field(ge=1, le=MAX_ID)]


def has_control_characters(text: str) -> bool:
    return _CONTROL_CHARACTERS.search(text) is not None


def refuse_null(*fields: str) -> Any:
    """For edits: these fields may be left out, but null would erase a value that is required."""

    def check(value: Any) -> Any:
        if value is None:
            raise ValueError(i18n.text("validation.not_null"))
        return value

    return field_validator(*fields)(check)


class ReadSchema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class WriteSchema(BaseModel):
    """Request bodies: unknown fields are an error, surrounding whitespace is dropped, and text
    holds no control characters."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(text, str) and has_control_characters(text) for text in texts):
            raise ValueError(CONTROL_CHARACTERS_MESSAGE)
        return value
