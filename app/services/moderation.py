"""Moderation of issues: hiding an abusive issue from every public surface, and back."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app import i18n
from app.errors import DomainError, Forbidden, IssueHidden
from app.models import EventAction, Issue, User
from app.models.base import utcnow
from app.services import lifecycle, permissions


def refuse_if_hidden(issue: Issue) -> None:
    """No one joins in on a hidden issue (comments, flags, follows, support): the staff who
    still see it are told to restore it first."""
    if issue.hidden_at is not None:
        raise IssueHidden(i18n.text("moderation.issue_hidden", issue_id=issue.public_id))


def check_moderator(session: Session, *, issue: Issue, actor: User) -> None:
    """The handling agency and admins moderate; an agency it was routed to claims it first."""
    if permissions.may_moderate(actor, issue):
        return
    if issue.agency_id is None and permissions.is_candidate_staff(
        actor, permissions.candidate_agency_ids(session, issue)
    ):
        raise lifecycle.claim_first(issue, "moderate it")
    raise refusal()


def refusal() -> DomainError:
    return Forbidden(i18n.text("moderation.forbidden"))


def set_issue_hidden(
    session: Session, *, issue: Issue, actor: User, hidden: bool, reason: str | None
) -> Issue:
    """Hide an issue from the public (or show it again); each change is an internal event.
    Asking for the state it is already in changes nothing."""
    check_moderator(session, issue=issue, actor=actor)
    if (issue.hidden_at is not None) == hidden:
        return issue
    now = utcnow()
    issue.hidden_at = now if hidden else None
    issue.updated_at = now  # a new version: cached copies must not show it any more
    lifecycle.record_event(
        session,
        issue=issue,
        action=EventAction.hidden if hidden else EventAction.unhidden,
        actor=actor,
        from_status=issue.status,
        note=reason,
        is_public=False,
    )
    session.flush()
    return issue
