"""Each issue's time frame: when it should be acknowledged and resolved, and whether it is on
track. One SQL expression decides, so exports, statistics and single reads agree."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import ColumnElement, bindparam, case, select
from sqlalchemy.orm import Session

from app.models import Issue
from app.models.types import UTCDateTime


class TimeframeState(StrEnum):
    on_track = "on_track"  # not resolved, and the current step's deadline has not passed
    late = "late"  # not resolved, and the current step's deadline has passed
    met = "met"  # resolved by the resolution deadline
    missed = "missed"  # resolved after it


def state(now: dt.datetime) -> ColumnElement[str]:
    """The state of Issue rows at `now`; the current step is acknowledging until claimed."""
    at = bindparam("timeframe_now", now, type_=UTCDateTime())
    return case(
        (
            Issue.resolved_at.is_not(None),
            case(
                (Issue.resolved_at <= Issue.resolve_due_at, TimeframeState.met.value),
                else_=TimeframeState.missed.value,
            ),
        ),
        (
            Issue.acknowledged_at.is_(None) & (Issue.acknowledge_due_at < at),
            TimeframeState.late.value,
        ),
        (Issue.resolve_due_at < at, TimeframeState.late.value),
        else_=TimeframeState.on_track.value,
    )


def current_step_due() -> ColumnElement[dt.datetime]:
    """The deadline of the step an issue is in: acknowledging until acknowledged, then
    resolving."""
    return case(
        (Issue.acknowledged_at.is_(None), Issue.acknowledge_due_at), else_=Issue.resolve_due_at
    )


@dataclass(frozen=True)
class Timeframe:
    state: TimeframeState
    acknowledge_due_at: dt.datetime
    acknowledged_at: dt.datetime | None
    # Open311's expected_datetime: when the issue should be resolved.
    expected_datetime: dt.datetime
    resolved_at: dt.datetime | None


def of_issue(session: Session, issue: Issue, now: dt.datetime) -> Timeframe:
    found = session.scalar(select(state(now)).where(Issue.id == issue.id))
    assert found is not None
    return Timeframe(
        state=TimeframeState(found),
        acknowledge_due_at=issue.acknowledge_due_at,
        acknowledged_at=issue.acknowledged_at,
        expected_datetime=issue.resolve_due_at,
        resolved_at=issue.resolved_at,
    )
