"""What was sent to whom, the dead letters, and the loop's metrics."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from app.deps import CurrentUser, OptionalUser, PathId, SessionDep
from app.errors import problem_responses
from app.http.caching import Personal
from app.http.route import UnitOfWorkRoute
from app.models import Issue
from app.models.base import MAX_ID
from app.routers.issues import CurrentIssue
from app.routers.query import as_utc
from app.schemas.notification import (
    DeadLetter,
    MetricsRead,
    NotificationEntry,
    NotificationLog,
    TimingRead,
)
from app.services import metrics
from app.services.notifications import log

# Every answer here is about its caller (or holds secrets): never stored.
router = APIRouter(tags=["notifications"], route_class=UnitOfWorkRoute, dependencies=[Personal])


@router.get(
    "/issues/{issue_id}/notifications",
    response_model=NotificationLog,
    responses=problem_responses(401, 403, 404),
    summary="What we told whom about this issue",
)
def get_notification_log(
    issue: CurrentIssue, session: SessionDep, viewer: OptionalUser
) -> NotificationLog:
    """Staff of the agencies involved and admins: every message with its delivery state. The
    reporter and followers: what reached them, and when ("we told you on ...")."""
    rows, complete = log.issue_log(session, issue=issue, viewer=viewer)
    return NotificationLog(
        issue=issue.public_id,
        complete=complete,
        entries=[NotificationEntry.of(n, full=complete) for n in rows],
    )


@router.get(
    "/notifications/dead",
    response_model=list[DeadLetter],
    responses=problem_responses(401, 403, 422),
    summary="Messages that could not be delivered",
)
def list_dead_letters(
    session: SessionDep,
    viewer: CurrentUser,
    agency: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Admins: one agency's.")
    ] = None,
) -> list[DeadLetter]:
    """Newest first, with the last error; staff see their agency's, admins all."""
    rows = log.dead_letters(session, viewer=viewer, agency_id=agency)
    public_ids = dict(
        session.execute(
            select(Issue.id, Issue.public_id).where(Issue.id.in_({n.issue_id for n in rows}))
        ).all()
    )
    return [
        DeadLetter(
            **NotificationEntry.of(n, full=True).model_dump(),
            issue=public_ids.get(n.issue_id) if n.issue_id else None,
        )
        for n in rows
    ]


@router.post(
    "/notifications/{notification_id}/retry",
    response_model=NotificationEntry,
    responses=problem_responses(401, 404, 409),
    summary="Try an undelivered message again",
)
def retry_notification(
    session: SessionDep,
    viewer: CurrentUser,
    notification_id: PathId,
) -> NotificationEntry:
    """Back to pending with fresh attempts, due now; receivers see the same message id."""
    return NotificationEntry.of(
        log.retry(session, viewer=viewer, notification_id=notification_id), full=True
    )


@router.get(
    "/metrics/loop",
    response_model=MetricsRead,
    responses=problem_responses(401, 403, 422),
    summary="How well the loop closes",
)
def get_loop_metrics(
    session: SessionDep,
    viewer: CurrentUser,
    agency: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    category: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    since: Annotated[
        dt.datetime | None, Query(description="Reported at or after (no offset: UTC).")
    ] = None,
    until: Annotated[dt.datetime | None, Query(description="Reported before.")] = None,
) -> MetricsRead:
    """For issues reported in the period: loop closure, time to acknowledge and resolve (median,
    90th percentile, share by the due date), reopen and confirmation rates, satisfaction.
    Staff see their own agency; admins any agency or all."""
    f = metrics.MetricsFilter(
        agency_id=metrics.authorise(viewer, agency),
        category_code=category,
        since=as_utc("since", since),
        until=as_utc("until", until),
    )
    m = metrics.loop_metrics(session, f)
    return MetricsRead(
        issues=m.issues,
        acknowledged=m.acknowledged,
        resolved=m.resolved,
        closed=m.closed,
        loop_closure_rate=m.loop_closure_rate,
        acknowledge=TimingRead(**vars(m.acknowledge)),
        resolve=TimingRead(**vars(m.resolve)),
        reopen_rate=m.reopen_rate,
        confirmation_rate=m.confirmation_rate,
        average_satisfaction=m.average_satisfaction,
        ratings=m.ratings,
        supports=m.supports,
        merged_duplicates=m.merged_duplicates,
        repeat_rate=m.repeat_rate,
    )
