"""The loop, measured: how fast and how well issues are acknowledged, resolved and closed.

Everything is computed by the database. Durations and the 50th/90th percentiles differ by
dialect only in how they are written: PostgreSQL has `percentile_cont`; SQLite gets the same
linear interpolation from `row_number()` over the ordered durations.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Select,
    SQLColumnExpression,
    and_,
    case,
    cast,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session

from app.errors import Forbidden, ValidationFailed
from app.models import (
    Answer,
    Category,
    EventAction,
    Issue,
    IssueEvent,
    IssueFeedback,
    IssueStatus,
    Notification,
    NotificationStatus,
    Resolution,
    Support,
    User,
    issue_candidate,
)
from app.schemas.problem import FieldProblem
from app.services import permissions


@dataclass(frozen=True)
class MetricsFilter:
    agency_id: int | None = None
    category_code: str | None = None
    # Issues reported in [since, until).
    since: dt.datetime | None = None
    until: dt.datetime | None = None


@dataclass(frozen=True)
class Timing:
    median_seconds: float | None
    p90_seconds: float | None
    within_target: float | None


@dataclass(frozen=True)
class LoopMetrics:
    issues: int
    acknowledged: int
    resolved: int
    closed: int
    loop_closure_rate: float | None
    acknowledge: Timing
    resolve: Timing
    reopen_rate: float | None
    confirmation_rate: float | None
    average_satisfaction: float | None
    ratings: int
    supports: int
    merged_duplicates: int
    repeat_rate: float | None


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def seconds_between(
    dialect: str, start: SQLColumnExpression[Any], end: SQLColumnExpression[Any]
) -> ColumnElement[float]:
    if dialect == "postgresql":
        return cast(func.extract("epoch", end - start), Float)
    # SQLite stores UTC timestamps as text that julianday() reads.
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def percentile(session: Session, durations: Select[Any], q: float) -> float | None:
    """The q-quantile of the durations, interpolated as PostgreSQL's percentile_cont does."""
    sub = durations.subquery()
    value = sub.c[0]
    if session.get_bind().dialect.name == "postgresql":
        result = session.scalar(select(func.percentile_cont(q).within_group(value.asc())))
        return float(result) if result is not None else None
    ranked = select(
        value.label("d"),
        (func.row_number().over(order_by=value) - 1).label("i"),
        func.count().over().label("n"),
    ).subquery()
    position = q * (ranked.c.n - 1)
    low = cast(position, Integer)  # positions are never negative: truncation is floor
    fraction = position - low
    result = session.scalar(
        select(
            func.sum(
                case(
                    (ranked.c.i == low, ranked.c.d * (1 - fraction)),
                    (ranked.c.i == low + 1, ranked.c.d * fraction),
                    else_=0.0,
                )
            )
        )
    )
    return float(result) if result is not None else None


def _scope(session: Session, f: MetricsFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if f.agency_id is not None:
        # The agency's issues: those it holds, and unclaimed ones waiting in its queue.
        waiting = exists().where(
            issue_candidate.c.issue_id == Issue.id, issue_candidate.c.agency_id == f.agency_id
        )
        conditions.append(
            or_(Issue.agency_id == f.agency_id, and_(Issue.agency_id.is_(None), waiting))
        )
    if f.category_code is not None:
        category_id = session.scalar(select(Category.id).where(Category.code == f.category_code))
        if category_id is None:
            raise ValidationFailed(
                f"Unknown category {f.category_code!r}.",
                errors=[
                    FieldProblem(
                        location="query.category",
                        message="unknown category",
                        code="unknown_category",
                    )
                ],
            )
        conditions.append(Issue.category_id == category_id)
    if f.since is not None:
        conditions.append(Issue.created_at >= f.since)
    if f.until is not None:
        conditions.append(Issue.created_at < f.until)
    return conditions


def authorise(viewer: User, agency_id: int | None) -> int | None:
    """Admins see any agency or all; staff only their own agency (the default for them)."""
    if permissions.is_admin(viewer):
        return agency_id
    if not viewer.role.is_staff:
        raise Forbidden("Metrics are for agency staff and admins.")
    if agency_id not in (None, viewer.agency_id):
        raise Forbidden("Staff see their own agency's metrics only.")
    return viewer.agency_id


def loop_metrics(session: Session, f: MetricsFilter) -> LoopMetrics:
    """Loop closure, time to acknowledge and resolve (median, p90, within target), reopen and
    confirmation rates, average satisfaction and the repeat-report rate, for issues reported in
    the period."""
    dialect = session.get_bind().dialect.name
    scope = _scope(session, f)
    ever_resolved = or_(Issue.resolved_at.is_not(None), Issue.reopen_count > 0)
    told_closed = exists().where(
        Notification.issue_id == Issue.id,
        Notification.recipient_user_id == Issue.reporter_id,
        Notification.status == NotificationStatus.sent,
        IssueEvent.id == Notification.event_id,
        IssueEvent.action == EventAction.closed,
    )
    confirmed = exists().where(
        IssueFeedback.issue_id == Issue.id, IssueFeedback.answer == Answer.fixed
    )

    def count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    row = session.execute(
        select(
            func.count().label("issues"),
            count_if(Issue.acknowledged_at.is_not(None)).label("acknowledged"),
            count_if(Issue.acknowledged_at <= Issue.acknowledge_due_at).label("ack_in_time"),
            count_if(ever_resolved).label("ever_resolved"),
            count_if(Issue.resolved_at.is_not(None)).label("resolved"),
            count_if(Issue.resolved_at <= Issue.resolve_due_at).label("resolved_in_time"),
            count_if(Issue.status == IssueStatus.closed).label("closed"),
            count_if(and_(Issue.status == IssueStatus.closed, told_closed)).label("loop_closed"),
            count_if(Issue.reopen_count > 0).label("reopened"),
            count_if(confirmed).label("confirmed"),
            count_if(
                and_(Issue.duplicate_of_id.is_not(None), Issue.resolution == Resolution.duplicate)
            ).label("merged"),
        ).where(*scope)
    ).one()
    # "Me too"s given by citizens; rows a merge carried over were counted as the merged report.
    supports = session.scalar(
        select(func.count(Support.id))
        .join(Issue, Issue.id == Support.issue_id)
        .where(*scope, Support.carried_from_id.is_(None))
    )
    satisfaction = session.execute(
        select(func.avg(IssueFeedback.rating), func.count(IssueFeedback.rating))
        .join(Issue, Issue.id == IssueFeedback.issue_id)
        .where(*scope)
    ).one()

    def timing(done: SQLColumnExpression[Any], in_time: int, total: int) -> Timing:
        durations = select(seconds_between(dialect, Issue.created_at, done)).where(
            *scope, done.is_not(None)
        )
        return Timing(
            median_seconds=percentile(session, durations, 0.5),
            p90_seconds=percentile(session, durations, 0.9),
            within_target=_ratio(in_time, total),
        )

    return LoopMetrics(
        issues=row.issues,
        acknowledged=row.acknowledged,
        resolved=row.resolved,
        closed=row.closed,
        loop_closure_rate=_ratio(row.loop_closed, row.closed),
        acknowledge=timing(Issue.acknowledged_at, row.ack_in_time, row.acknowledged),
        resolve=timing(Issue.resolved_at, row.resolved_in_time, row.resolved),
        reopen_rate=_ratio(row.reopened, row.ever_resolved),
        confirmation_rate=_ratio(row.confirmed, row.ever_resolved),
        average_satisfaction=float(satisfaction[0]) if satisfaction[0] is not None else None,
        ratings=int(satisfaction[1]),
        supports=supports or 0,
        merged_duplicates=row.merged,
        # A citizen who had to contact us about something already reported: a support, or a
        # report merged as a duplicate; over every contact (reports and supports).
        repeat_rate=_ratio(row.merged + (supports or 0), row.issues + (supports or 0)),
    )
