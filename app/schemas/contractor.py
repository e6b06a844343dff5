"""Contractor hand-overs on the wire: what the agency sends and sees, and the work as the
contractor sees it (no reporter, no staff names)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from app.models import IssueStatus
from app.schemas.base import WriteSchema
from app.schemas.issue import AgencyRef, CategoryRef, Note
from app.schemas.photo import PhotoRead


class HandOverRequest(WriteSchema):
    contractor: str = Field(
        min_length=1, max_length=200, description="Who does the work (a firm, a crew)."
    )
    instructions: str = Field(
        default="", max_length=2000, description="What the contractor is asked to do."
    )
    valid_days: int = Field(
        default=7,
        ge=1,
        le=365,
        description="How long the link works; at most the server's contractor_link_max_days.",
    )


class SendBackRequest(WriteSchema):
    note: Note = Field(description="What is still wrong: shown to the contractor.")


class WorkDoneRequest(WriteSchema):
    note: Note | None = Field(default=None, description="What was done, for the agency.")


class ContractorLinkRead(BaseModel):
    """A hand-over as its agency sees it, with the link to give the contractor."""

    id: int
    issue: str = Field(description="The issue's public id.")
    contractor: str
    instructions: str
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    done_at: dt.datetime | None = Field(description="When the contractor reported the work done.")
    done_note: str | None
    active: bool = Field(description="Whether the link works now.")
    url: str = Field(description="The contractor's page; works without an account.")
    api_url: str = Field(description="The same hand-over in the JSON API.")


class ContractorWork(BaseModel):
    """The work as the contractor sees it: the place, the problem and the agency's request."""

    issue: str = Field(description="The issue's public id.")
    title: str
    description: str
    category: CategoryRef
    status: IssueStatus
    latitude: float
    longitude: float
    address: str | None
    agency: AgencyRef
    contractor: str
    instructions: str
    expires_at: dt.datetime
    done_at: dt.datetime | None
    returned_note: str | None = Field(
        description="Why the agency sent the work back, if it did since the last report."
    )
    photos: list[PhotoRead] = Field(description="The issue's public photos, oldest first.")
