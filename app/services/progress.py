"""The progress view: every step of an issue's life, which are done, which it is in now, which
are still ahead, each against its deadline; and the cycles a reopening started."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import i18n
from app.models import EventAction, Issue, IssueEvent, IssueStatus, Language
from app.services import timeframes
from app.services.timeframes import Punctuality, Timeframe


class StepCode(StrEnum):
    reported = "reported"
    acknowledged = "acknowledged"
    in_progress = "in_progress"
    resolved = "resolved"
    closed = "closed"


class StepState(StrEnum):
    done = "done"
    current = "current"
    upcoming = "upcoming"
    skipped = "skipped"  # resolved straight from acknowledged: work never formally started


ORDER = list(StepCode)
# The step an issue in each status is in (an open issue waits after its report).
STEP_OF_STATUS = {
    IssueStatus.open: StepCode.reported,
    IssueStatus.acknowledged: StepCode.acknowledged,
    IssueStatus.in_progress: StepCode.in_progress,
    IssueStatus.resolved: StepCode.resolved,
    IssueStatus.closed: StepCode.closed,
}


@dataclass(frozen=True)
class StepView:
    step: StepCode
    label: str
    state: StepState
    at: dt.datetime | None
    due_at: dt.datetime | None
    punctuality: Punctuality | None


@dataclass(frozen=True)
class ReopenCycle:
    number: int  # 1 for the first reopening
    resolved_at: dt.datetime | None  # the resolution the reporter or staff disputed
    reopened_at: dt.datetime
    note: str | None  # only a public one


@dataclass(frozen=True)
class Progress:
    current_step: StepCode
    steps: list[StepView]
    reopen_count: int
    reopen_cycles: list[ReopenCycle]
    timeframe: Timeframe


def _happened(issue: Issue, step: StepCode) -> dt.datetime | None:
    """When the step happened in the current cycle (a reopening starts a new one)."""
    at = {
        StepCode.reported: issue.created_at,
        StepCode.acknowledged: issue.acknowledged_at,
        StepCode.in_progress: issue.started_at,
        StepCode.resolved: issue.resolved_at,
        StepCode.closed: issue.closed_at,
    }[step]
    # Work started before the last reopening belongs to the previous cycle.
    if step == StepCode.in_progress and at and issue.reopened_at and at < issue.reopened_at:
        return None
    return at


def _due(issue: Issue, step: StepCode) -> dt.datetime | None:
    if step == StepCode.acknowledged:
        return issue.acknowledge_due_at
    if step == StepCode.resolved:
        return issue.resolve_due_at
    return None


def _cycles(session: Session, issue: Issue) -> list[ReopenCycle]:
    cycles: list[ReopenCycle] = []
    last_resolved: dt.datetime | None = None
    for action, at, note, public in session.execute(
        select(IssueEvent.action, IssueEvent.created_at, IssueEvent.note, IssueEvent.is_public)
        .where(
            IssueEvent.issue_id == issue.id,
            IssueEvent.action.in_((EventAction.resolved, EventAction.reopened)),
        )
        .order_by(IssueEvent.id)
    ):
        if action == EventAction.resolved:
            last_resolved = at
        else:
            cycles.append(ReopenCycle(len(cycles) + 1, last_resolved, at, note if public else None))
    return cycles


def of_issue(session: Session, *, issue: Issue, now: dt.datetime, lang: Language) -> Progress:
    """Each step done, current, upcoming or skipped, with when it happened, its deadline and how
    it kept to it; labels in `lang`."""
    current = STEP_OF_STATUS[issue.status]
    steps = []
    for index, step in enumerate(ORDER):
        position = index - ORDER.index(current)
        at = _happened(issue, step) if position <= 0 else None
        if position > 0:
            state = StepState.upcoming
        elif position == 0:
            state = StepState.current
        else:
            state = StepState.done if at is not None else StepState.skipped
        due = _due(issue, step)
        steps.append(
            StepView(
                step=step,
                label=i18n.t(f"label.step.{step.value}", lang),
                state=state,
                at=at,
                due_at=due,
                punctuality=Punctuality.of(at, due) if at and due else None,
            )
        )
    return Progress(
        current_step=current,
        steps=steps,
        reopen_count=issue.reopen_count,
        reopen_cycles=_cycles(session, issue),
        timeframe=timeframes.of_issue(session, issue, now),
    )
