"""Agency work on the wire: assignment, bulk operations and the live feed."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from app.models import EventAction, IssueStatus, Priority, Resolution
from app.schemas.base import RecordId, WriteSchema
from app.schemas.issue import (
    AgencyRef,
    CategoryRef,
    ClaimRequest,
    CloseRequest,
    ReopenRequest,
    ResolveRequest,
    StartRequest,
    TransferRequest,
)
from app.schemas.problem import Problem

# One bulk request changes at most this many issues: each is its own savepoint and event.
BULK_MAX = 100


class AssignmentUpdate(WriteSchema):
    assignee: RecordId | None = Field(
        description="Id of an active agent or manager of the handling agency; null releases it. "
        "Managers assign anyone of their agency; agents take an unassigned one for themselves "
        "or release their own."
    )


class AssignRequest(WriteSchema):
    action: Literal["assign"]
    assignee: RecordId | None = Field(description="As in PUT /issues/{id}/assignee.")


BulkAction = Annotated[
    ClaimRequest
    | StartRequest
    | ResolveRequest
    | CloseRequest
    | ReopenRequest
    | TransferRequest
    | AssignRequest,
    Field(discriminator="action"),
]


class BulkItem(WriteSchema):
    id: str = Field(min_length=1, max_length=16, description="The issue's public id.")
    version: Annotated[int, Field(ge=1)] | Literal["*"] | None = Field(
        default=None,
        description="Like If-Match: the version you decided on (a newer one fails this item "
        'with 412), or `"*"` for whatever version is current. Staff and admins must give one: '
        "an item without fails with 428. Citizens may leave it out.",
    )


class BulkRequest(WriteSchema):
    do: BulkAction = Field(description="What to do to every listed issue.")
    issues: list[BulkItem] = Field(min_length=1, max_length=BULK_MAX)


class BulkResult(BaseModel):
    id: str
    status: int = Field(description="As if the item were its own request: 200 or a 4xx.")
    version: int | None = Field(description="The issue's new version, on success.")
    problem: Problem | None = Field(description="Why this item failed (RFC 9457).")


class BulkResponse(BaseModel):
    results: list[BulkResult] = Field(description="One per listed issue, in the order sent.")
    succeeded: int
    failed: int


class FeedIssue(BaseModel):
    id: str
    title: str
    category: CategoryRef
    status: IssueStatus
    priority: Priority
    agency: AgencyRef | None
    assignee_id: int | None
    acknowledge_due_at: dt.datetime
    resolve_due_at: dt.datetime
    latitude: float
    longitude: float


class FeedEvent(BaseModel):
    """The `data:` of one feed message: an event and the issue as it stands now."""

    id: int = Field(description="The event's id, also the message's SSE `id:`.")
    at: dt.datetime
    action: EventAction = Field(description="`reported` for a new issue.")
    from_status: IssueStatus | None
    to_status: IssueStatus
    resolution: Resolution | None
    note: str | None
    is_public: bool
    actor_role: str
    actor_agency_id: int | None
    from_agency_id: int | None
    to_agency_id: int | None
    assignee_id: int | None
    issue: FeedIssue
