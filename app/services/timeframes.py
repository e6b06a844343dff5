"""Each issue's time frame: when its next step and its resolution are due, and whether it is on
track, at risk or late. One SQL expression (`state`) decides, so single reads, lists, exports,
statistics and work queues agree; `current_due_at` is the deadline that expression watches.
`state_at` is the same rule for an issue in hand, for a report's answer made without reading back.

A step's window runs from the report (deadlines count from the report time, see
`services.priorities`) to its due date; the step is at risk once the share of the window set in
the priority rules (`at_risk_percent`) has passed, and late once the due date has.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import ColumnElement, bindparam, case, func, literal, null, select
from sqlalchemy.orm import Session

from app.models import Issue, PriorityRules
from app.models.types import UTCDateTime
from app.services.priorities import Rules
from app.services.sqltime import epoch_seconds


class TimeframeState(StrEnum):
    on_track = "on_track"  # not resolved, less than the at-risk share of the step's window gone
    at_risk = "at_risk"  # not resolved, most of the window gone, the deadline not yet passed
    late = "late"  # not resolved, and the current step's deadline has passed
    met = "met"  # resolved by the resolution deadline
    missed = "missed"  # resolved after it


class Step(StrEnum):
    acknowledge = "acknowledge"
    resolve = "resolve"


def current_due_at() -> ColumnElement[dt.datetime]:
    """The deadline of the step the issue waits for: acknowledgement until claimed, then
    resolution; NULL once resolved. Sort a queue by it to see what falls due first."""
    return case((Issue.resolved_at.is_not(None), null()), else_=current_step_due())


def _at_risk_percent() -> ColumnElement[int]:
    # Read in the same statement, so a changed rule applies to every row at once.
    saved = select(PriorityRules.at_risk_percent).where(PriorityRules.id == 1).scalar_subquery()
    return func.coalesce(saved, Rules().at_risk_percent)


def state(now: dt.datetime, dialect: str) -> ColumnElement[str]:
    """The state of Issue rows at `now` (`dialect`: the session's, for the time arithmetic)."""
    at = bindparam("timeframe_now", now, type_=UTCDateTime())
    due = current_due_at()
    reported = epoch_seconds(Issue.created_at, dialect)
    # Whole seconds and whole percent: the same integers on both databases.
    elapsed = literal(int(now.timestamp())) - reported
    window = epoch_seconds(due, dialect) - reported
    return case(
        (
            Issue.resolved_at.is_not(None),
            case(
                (Issue.resolved_at <= Issue.resolve_due_at, TimeframeState.met.value),
                else_=TimeframeState.missed.value,
            ),
        ),
        (due < at, TimeframeState.late.value),
        (elapsed * 100 >= _at_risk_percent() * window, TimeframeState.at_risk.value),
        else_=TimeframeState.on_track.value,
    )


def current_step_due() -> ColumnElement[dt.datetime]:
    """The deadline of the step an issue is in: acknowledging until acknowledged, then
    resolving (the resolution deadline stays once resolved, where queues keep their order)."""
    return case(
        (Issue.acknowledged_at.is_(None), Issue.acknowledge_due_at), else_=Issue.resolve_due_at
    )


# A step done within this many hours before its deadline was done "on time", not "early".
ON_TIME_HOURS = 1.0


@dataclass(frozen=True)
class Punctuality:
    """How a done step compared with its deadline: early (or exactly on it) or late, by hours."""

    outcome: str
    by_hours: float

    @property
    def verdict(self) -> str:
        """For people: early, on time (done in the last hour before the deadline), or late."""
        if self.outcome == "late":
            return "late"
        return "on_time" if self.by_hours < ON_TIME_HOURS else "early"

    @classmethod
    def of(cls, done: dt.datetime, due: dt.datetime) -> Punctuality:
        hours = round(abs((due - done).total_seconds()) / 3600, 2)
        return cls("early" if done <= due else "late", hours)


class Verdict(StrEnum):
    """A done step against its window: early (before the at-risk share of the window had gone),
    on time (by the due date) or late: the rule that marks an open step at risk, after the fact."""

    early = "early"
    on_time = "on_time"
    late = "late"


def verdict(
    *, reported_at: dt.datetime, done_at: dt.datetime, due_at: dt.datetime, at_risk_percent: int
) -> Verdict:
    if done_at > due_at:
        return Verdict.late
    window = (due_at - reported_at).total_seconds()
    if (done_at - reported_at).total_seconds() * 100 < at_risk_percent * window:
        return Verdict.early
    return Verdict.on_time


@dataclass(frozen=True)
class Timeframe:
    state: TimeframeState
    next_step: Step | None
    next_step_due_at: dt.datetime | None
    acknowledge_due_at: dt.datetime
    acknowledged_at: dt.datetime | None
    # Open311's expected_datetime: when the issue should be resolved.
    expected_datetime: dt.datetime
    resolved_at: dt.datetime | None
    resolution_punctuality: Punctuality | None


def _frame(issue: Issue, found: str) -> Timeframe:
    if issue.resolved_at is not None:
        step, due = None, None
    elif issue.acknowledged_at is None:
        step, due = Step.acknowledge, issue.acknowledge_due_at
    else:
        step, due = Step.resolve, issue.resolve_due_at
    return Timeframe(
        state=TimeframeState(found),
        next_step=step,
        next_step_due_at=due,
        acknowledge_due_at=issue.acknowledge_due_at,
        acknowledged_at=issue.acknowledged_at,
        expected_datetime=issue.resolve_due_at,
        resolved_at=issue.resolved_at,
        resolution_punctuality=(
            Punctuality.of(issue.resolved_at, issue.resolve_due_at)
            if issue.resolved_at is not None
            else None
        ),
    )


def state_at(issue: Issue, now: dt.datetime, *, at_risk_percent: int) -> TimeframeState:
    """`state` worked out for an issue in hand (a report just written, whose row need not be
    read back): the same rule on the same whole seconds and whole percent."""
    if issue.resolved_at is not None:
        met = issue.resolved_at <= issue.resolve_due_at
        return TimeframeState.met if met else TimeframeState.missed
    due = issue.acknowledge_due_at if issue.acknowledged_at is None else issue.resolve_due_at
    if due < now:
        return TimeframeState.late
    reported = math.floor(issue.created_at.timestamp())
    elapsed = int(now.timestamp()) - reported
    window = math.floor(due.timestamp()) - reported
    if elapsed * 100 >= at_risk_percent * window:
        return TimeframeState.at_risk
    return TimeframeState.on_track


def frame_at(issue: Issue, now: dt.datetime, *, at_risk_percent: int) -> Timeframe:
    """The time frame of an issue in hand at `now`, without a query (`state_at`)."""
    return _frame(issue, state_at(issue, now, at_risk_percent=at_risk_percent))


def of_issues(session: Session, issues: Sequence[Issue], now: dt.datetime) -> dict[int, Timeframe]:
    """The time frames of these issues at `now`, in one query."""
    if not issues:
        return {}
    dialect = session.get_bind().dialect.name
    found = dict(
        session.execute(
            select(Issue.id, state(now, dialect)).where(Issue.id.in_([i.id for i in issues]))
        ).all()
    )
    return {i.id: _frame(i, found[i.id]) for i in issues}


def of_issue(session: Session, issue: Issue, now: dt.datetime) -> Timeframe:
    return of_issues(session, [issue], now)[issue.id]
