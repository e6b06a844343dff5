"""The reporter answers back: fixed (closes), not fixed (reopens to the agency), a 1-5 rating;
and issues resolved but not disputed for a while are closed by the worker."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import i18n
from app.config import Settings
from app.db import Database
from app.errors import Conflict, FieldText, InvalidLink, NotFound, ValidationFailed
from app.models import Answer, Comment, EventAction, Issue, IssueFeedback, IssueStatus, User
from app.models.base import utcnow
from app.services import lifecycle
from app.services.lifecycle import Action
from app.services.notifications.tokens import FeedbackClaim

AUTO_CLOSE_BATCH = 200


def _claimed_issue(session: Session, claim: FeedbackClaim) -> Issue:
    issue = session.get(Issue, claim.issue_id)
    if issue is None:
        raise NotFound(i18n.text("error.link.issue_gone"))
    if issue.reporter_id != claim.reporter_id:
        raise InvalidLink(i18n.text("error.link.not_reporter"))
    return issue


def describe(
    session: Session, *, claim: FeedbackClaim, answer: Answer | None, rating: int | None
) -> i18n.Text:
    """What answering with this link would do, asked before it is done."""
    issue = _claimed_issue(session, claim)
    if answer is not None:
        return i18n.text(f"notify.feedback.ask.{answer.value}", issue=issue.public_id)
    if rating is not None:
        return i18n.text("notify.feedback.ask.rating", issue=issue.public_id, rating=rating)
    raise ValidationFailed(
        i18n.text("error.link.no_answer"),
        errors=[FieldText("query.answer", i18n.text("error.link.no_answer"), "missing")],
    )


def respond(
    session: Session,
    *,
    claim: FeedbackClaim,
    answer: Answer | None,
    rating: int | None,
    comment: str | None,
) -> tuple[Issue, IssueFeedback]:
    """Record the reporter's answer to one resolution; "fixed" closes, "not fixed" reopens.

    The signed link is the permission. Answering the same way again changes nothing; changing
    the answer, or answering after the issue moved on, is refused with 409."""
    issue = _claimed_issue(session, claim)
    reporter = session.get(User, claim.reporter_id)
    assert reporter is not None
    feedback = session.scalar(
        select(IssueFeedback).where(
            IssueFeedback.issue_id == issue.id, IssueFeedback.resolved_at == claim.resolved_at
        )
    )
    if feedback is None:
        feedback = IssueFeedback(
            issue_id=issue.id, reporter_id=reporter.id, resolved_at=claim.resolved_at
        )
        session.add(feedback)
    changes_answer = answer is not None and feedback.answer != answer
    if changes_answer and feedback.answer is not None:
        answered = i18n.text(f"label.answer.{feedback.answer.value}")
        raise Conflict(i18n.text("error.link.answered", answer=answered))
    if answer is not None and changes_answer:
        _check_answerable(issue, claim, answer)
    public_comment = None
    if comment is not None and comment != feedback.comment:
        # Said to the agency and, unless moderation hides it, to everyone on the timeline; the
        # agency answers it like any comment. With an answer, the answer's event carries it.
        public_comment = _comment(session, issue, reporter, comment, announce=not changes_answer)
        feedback.comment = comment
        feedback.comment_id = public_comment.id
    if answer is not None and changes_answer:
        _apply_answer(session, issue, reporter, answer, public_comment)
        feedback.answer = answer
    if rating is not None:
        feedback.rating = rating
    session.flush()
    return issue, feedback


def _comment(
    session: Session, issue: Issue, reporter: User, body: str, *, announce: bool
) -> Comment:
    comment = Comment(
        issue_id=issue.id,
        author_id=reporter.id,
        author_role=reporter.role.value,
        author_agency_id=reporter.agency_id,
        is_internal=False,
        body=body,
        created_at=utcnow(),
    )
    session.add(comment)
    session.flush()
    if announce:
        lifecycle.record_event(
            session,
            issue=issue,
            action=EventAction.commented,
            actor=reporter,
            from_status=issue.status,
            comment_id=comment.id,
        )
    return comment


def _check_answerable(issue: Issue, claim: FeedbackClaim, answer: Answer) -> None:
    same_round = issue.resolved_at == claim.resolved_at
    if same_round and issue.status == IssueStatus.resolved:
        return
    if same_round and issue.status == IssueStatus.closed and answer == Answer.fixed:
        return  # closed already (by the agency or automatically): the confirmation still counts
    moved_on = "moved_on_closed" if issue.status == IssueStatus.closed else "moved_on"
    status = i18n.text(f"label.status.{issue.status.value}")
    raise Conflict(i18n.text(f"error.link.{moved_on}", status=status))


def _apply_answer(
    session: Session,
    issue: Issue,
    reporter: User,
    answer: Answer,
    comment: Comment | None,
) -> None:
    """ "Fixed" closes the issue, "not fixed" reopens it to the handling agency (whose staff are
    told, `outbox`); the event says so in each reader's language and carries the comment."""
    if issue.status != IssueStatus.resolved:
        return  # a confirmation of an issue closed meanwhile (`_check_answerable`)
    lifecycle.apply_action(
        session,
        issue=issue,
        action=Action.close if answer == Answer.fixed else Action.reopen,
        actor=reporter,
        message=i18n.text(f"message.reporter_{answer.value}"),
        comment_id=comment.id if comment else None,
    )


def by_issue(session: Session, issue_ids: list[int]) -> dict[int, list[IssueFeedback]]:
    """The reporter's answers to each resolution of these issues, oldest first."""
    found: dict[int, list[IssueFeedback]] = {}
    if issue_ids:
        for row in session.scalars(
            select(IssueFeedback)
            .where(IssueFeedback.issue_id.in_(issue_ids))
            .order_by(IssueFeedback.resolved_at, IssueFeedback.id)
        ):
            found.setdefault(row.issue_id, []).append(row)
    return found


def auto_close_due(session: Session, *, resolved_before: dt.datetime, days: int) -> int:
    """Close issues resolved before the cut-off that nobody reopened: silence counts as yes."""
    due = session.scalars(
        select(Issue)
        .where(Issue.status == IssueStatus.resolved, Issue.resolved_at <= resolved_before)
        .order_by(Issue.resolved_at)
        .limit(AUTO_CLOSE_BATCH)
        .with_for_update(skip_locked=True)
    ).all()
    for issue in due:
        lifecycle.apply_action(
            session,
            issue=issue,
            action=Action.close,
            actor=None,
            message=i18n.text("message.auto_closed", days=days),
        )
    session.flush()
    return len(due)


def auto_close_all(database: Database, settings: Settings) -> int:
    """The worker's housekeeping: close every undisputed resolved issue that is due."""
    closed = 0
    while True:
        with database.session(write=True) as session, session.begin():
            count = auto_close_due(
                session,
                resolved_before=utcnow() - settings.auto_close_after,
                days=settings.auto_close_days,
            )
        closed += count
        if count < AUTO_CLOSE_BATCH:
            return closed
