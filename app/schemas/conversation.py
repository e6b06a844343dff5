"""Comments, notes, flags, moderation and response templates on the wire."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, Self

from pydantic import BaseModel, Field, model_validator

from app.schemas.base import RecordId, WriteSchema, refuse_null
from app.schemas.issue import ActorRef, IssueEventRead
from app.services.conversation import TemplateLanguage
from app.services.response_templates import ALLOWED

CommentBody = Annotated[str, Field(min_length=1, max_length=4000)]
Reason = Annotated[str, Field(min_length=1, max_length=2000)]
TemplateBody = Annotated[
    str,
    Field(
        min_length=1,
        max_length=4000,
        description=f"Placeholders allowed: {ALLOWED}; a literal brace is written {{{{ or }}}}.",
        examples=[
            "เรื่อง {issue_id} ({title}) อยู่ในสถานะ {status} คาดว่าจะแก้ไขภายใน {resolve_due_date}"
        ],
    ),
]


class CommentCreate(WriteSchema):
    """Either a body, or (staff of the handling agency) a response template to answer from."""

    body: CommentBody | None = None
    template_id: RecordId | None = Field(
        default=None, description="A response template of the handling agency."
    )
    language: TemplateLanguage | None = Field(
        default=None,
        description="With a template: th, en or both; by default the reporter's language.",
    )
    internal: bool = Field(
        default=False,
        description="An internal note, seen only by the handling agency and admins.",
    )

    @model_validator(mode="after")
    def _body_or_template(self) -> Self:
        if (self.body is None) == (self.template_id is None):
            raise ValueError("send either body or template_id, not both and not neither")
        if self.language is not None and self.template_id is None:
            raise ValueError("language goes with template_id only")
        return self


class CommentRead(BaseModel):
    id: int
    issue: str = Field(description="The issue's public id.")
    kind: Literal["comment", "note"] = Field(description="note: internal, for staff only.")
    body: str | None = Field(description="Null when hidden, except for staff.")
    hidden: bool
    notice: str | None = Field(
        default=None, description="For the public, in place of a hidden comment's text."
    )
    hidden_reason: str | None = Field(default=None, description="Staff only.")
    author: ActorRef
    mine: bool = Field(description="Whether you wrote it.")
    created_at: dt.datetime
    flag_count: int | None = Field(
        default=None, description="How many people flagged it (staff only)."
    )
    template_id: int | None = Field(default=None, description="Staff only.")


class TimelineEntry(IssueEventRead):
    """A step of the issue, with the comment or note it is about."""

    comment: CommentRead | None = None


class Moderation(WriteSchema):
    hidden: bool
    reason: Reason | None = Field(default=None, description="Required when hiding.")

    @model_validator(mode="after")
    def _reason_when_hiding(self) -> Self:
        if self.hidden and self.reason is None:
            raise ValueError("say why it is hidden (reason)")
        return self


class IssueModerationState(BaseModel):
    issue: str
    hidden: bool


class FlagCreate(WriteSchema):
    reason: Annotated[str, Field(min_length=1, max_length=500)] | None = None


class FlagState(BaseModel):
    comment: int
    flagged: bool


class FlagRead(BaseModel):
    at: dt.datetime
    reason: str | None
    by: ActorRef


class ResponseTemplateCreate(WriteSchema):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    body_th: TemplateBody
    body_en: TemplateBody


class ResponseTemplateUpdate(WriteSchema):
    name: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    body_th: TemplateBody | None = None
    body_en: TemplateBody | None = None

    _required = refuse_null("name", "body_th", "body_en")


class ResponseTemplateRead(BaseModel):
    id: int
    agency_id: int
    name: str
    body_th: str
    body_en: str
    created_at: dt.datetime
    updated_at: dt.datetime
