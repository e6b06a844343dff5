"""Similar issues, support and merging on the wire. No personal data: what a public list shows."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from app.models import IssueStatus
from app.schemas.base import WriteSchema
from app.schemas.issue import CategoryRef, Note


class ScoreParts(BaseModel):
    """Each part in [0, 1]; score = 0.6 text + 0.25 distance + 0.15 recency."""

    text: float = Field(description="Character-trigram similarity of title and description.")
    distance: float = Field(description="1 at the point, 0 at the edge of the radius.")
    recency: float = Field(description="Halves every 14 days since it was reported.")


class SimilarIssue(BaseModel):
    id: str = Field(description="The issue's public id.")
    category: CategoryRef
    title: str
    description: str
    status: IssueStatus
    created_at: dt.datetime
    latitude: float
    longitude: float
    distance_m: float
    supporter_count: int = Field(description="Citizens who said they have this problem too.")
    score: float = Field(description="Higher is more likely the same problem; best first.")
    score_parts: ScoreParts


class SimilarIssues(BaseModel):
    items: list[SimilarIssue]
    radius_m: float = Field(description="The radius searched.")
    categories: list[str] = Field(description="The category codes searched (its group).")


class SupportState(BaseModel):
    issue: str = Field(description="The issue's public id.")
    supported: bool
    supporter_count: int


class MergeRequest(WriteSchema):
    into: str = Field(
        min_length=1,
        max_length=16,
        description="Public id of the open issue that reports the same problem.",
        examples=["K7M3QX9PAB"],
    )
    note: Note | None = Field(default=None, description="Why they are the same; shown publicly.")
