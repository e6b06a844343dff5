"""Citizens' flags on issues, review before publishing, and redactions on the wire."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, Self

from pydantic import BaseModel, Field, model_validator

from app.models import FlagReason, RedactedField, Review
from app.schemas.base import WriteSchema
from app.schemas.issue import ActorRef, Description, Title

Reason = Annotated[str, Field(min_length=1, max_length=2000)]


class IssueFlagCreate(WriteSchema):
    reason: FlagReason = Field(
        description="abuse, personal_data, not_civic (not a civic issue) or duplicate."
    )
    note: Annotated[str, Field(min_length=1, max_length=500)] | None = Field(
        default=None,
        description="Anything the moderators should know (for example the issue it duplicates).",
    )


class IssueFlagState(BaseModel):
    issue: str
    flagged: bool
    reason: FlagReason


class IssueFlagRead(BaseModel):
    at: dt.datetime
    reason: FlagReason
    note: str | None
    by: ActorRef


class ReviewDecision(WriteSchema):
    """Publish the report (perhaps with edits), or reject it with a reason its reporter is told."""

    decision: Literal["approve", "reject"]
    reason: Reason | None = Field(
        default=None, description="Required to reject: the reporter is told it as written."
    )
    title: Title | None = Field(default=None, description="With approve: the title as published.")
    description: Description | None = Field(
        default=None, description="With approve: the description as published."
    )

    @model_validator(mode="after")
    def _reason_to_reject(self) -> Self:
        if self.decision == "reject" and self.reason is None:
            raise ValueError("say why the report is rejected (reason): its reporter is told")
        if self.decision == "reject" and (self.title, self.description) != (None, None):
            raise ValueError(
                "a rejected report is not edited: send title or description to approve"
            )
        return self

    def changes(self) -> dict[str, str]:
        return {
            name: value
            for name, value in (("title", self.title), ("description", self.description))
            if value is not None
        }


class ReviewState(BaseModel):
    issue: str
    review: Review
    status: str


class IssueRedactionCreate(WriteSchema):
    field: Literal[RedactedField.issue_title, RedactedField.issue_description]
    text: Description = Field(
        description="The field as it should read now, without what is removed."
    )
    reason: Reason

    @model_validator(mode="after")
    def _a_title_stays_a_title(self) -> Self:
        if self.field == RedactedField.issue_title and not 3 <= len(self.text) <= 200:
            raise ValueError("a title keeps 3 to 200 characters")
        return self


class CommentRedactionCreate(WriteSchema):
    text: Annotated[str, Field(min_length=1, max_length=4000)] = Field(
        description="The comment as it should read now, without what is removed."
    )
    reason: Reason


class PhotoRegion(WriteSchema):
    """In fractions of the photo's width and height, from its top left corner."""

    left: float = Field(ge=0, le=1)
    top: float = Field(ge=0, le=1)
    width: float = Field(gt=0, le=1)
    height: float = Field(gt=0, le=1)

    @model_validator(mode="after")
    def _inside_the_photo(self) -> Self:
        if self.left + self.width > 1 or self.top + self.height > 1:
            raise ValueError(
                "the region must lie inside the photo (left + width, top + height <= 1)"
            )
        return self


class PhotoRedactionCreate(WriteSchema):
    region: PhotoRegion = Field(description="Filled in with solid black on every rendition.")
    reason: Reason


class RedactionState(BaseModel):
    issue: str
    field: RedactedField


class RedactionRead(BaseModel):
    """An original kept for the audit (admins only)."""

    id: int
    field: RedactedField
    comment_id: int | None
    photo_id: int | None
    original: str = Field(description="The text; of a photo, its original files' keys (JSON).")
    reason: str
    redacted_by_id: int | None
    created_at: dt.datetime
