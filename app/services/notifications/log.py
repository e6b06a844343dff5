"""What was sent to whom: an issue's notification log, the dead letters and their retry."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.errors import Conflict, Forbidden, NotFound
from app.models import Issue, Notification, NotificationStatus, User, Webhook
from app.models.base import utcnow
from app.services import permissions

DEAD_LETTER_PAGE = 200


def issue_log(
    session: Session, *, issue: Issue, viewer: User | None
) -> tuple[list[Notification], bool]:
    """Staff of the agencies involved and admins see every message; the reporter and followers
    see what reached them. Returns the rows and whether the viewer sees everything."""
    if viewer is None:
        raise Forbidden("Log in to see what you were told about this issue.")
    query = select(Notification).where(Notification.issue_id == issue.id).order_by(Notification.id)
    if permissions.sees_internal(viewer, issue, permissions.candidate_agency_ids(session, issue)):
        return list(session.scalars(query)), True
    own = query.where(
        Notification.recipient_user_id == viewer.id,
        Notification.status == NotificationStatus.sent,
    )
    return list(session.scalars(own)), False


def dead_letters(session: Session, *, viewer: User, agency_id: int | None) -> list[Notification]:
    """Messages that gave up, newest first: an admin's of any agency, staff's of their own."""
    if not permissions.is_admin(viewer):
        if not viewer.role.is_staff:
            raise Forbidden("Only agency staff and admins see undelivered messages.")
        if agency_id not in (None, viewer.agency_id):
            raise Forbidden("Staff see their own agency's undelivered messages only.")
        agency_id = viewer.agency_id
    query = (
        select(Notification)
        .where(Notification.status == NotificationStatus.dead)
        .order_by(Notification.updated_at.desc(), Notification.id.desc())
        .limit(DEAD_LETTER_PAGE)
    )
    if agency_id is not None:
        query = (
            query.outerjoin(Issue, Issue.id == Notification.issue_id)
            .outerjoin(Webhook, Webhook.id == Notification.webhook_id)
            .where(or_(Issue.agency_id == agency_id, Webhook.agency_id == agency_id))
        )
    return list(session.scalars(query))


def retry(session: Session, *, viewer: User, notification_id: int) -> Notification:
    """Give a dead message a fresh set of attempts, due now (same message id)."""
    note = session.get(Notification, notification_id)
    visible = note is not None and (
        permissions.is_admin(viewer) or note in dead_letters(session, viewer=viewer, agency_id=None)
    )
    if note is None or not visible:
        raise NotFound(f"No undelivered message {notification_id} you may retry.")
    if note.status != NotificationStatus.dead:
        raise Conflict(
            f"Message {notification_id} is {note.status.value}, not dead: nothing to retry."
        )
    note.status = NotificationStatus.pending
    note.attempts = 0
    note.next_attempt_at = utcnow()
    session.flush()
    return note


def _manages(session: Session, viewer: User, note: Notification) -> bool:
    """Admins, and staff of the agency handling the issue or owning the webhook."""
    if permissions.is_admin(viewer):
        return True
    if not viewer.role.is_staff:
        return False
    issue_agency = session.scalar(select(Issue.agency_id).where(Issue.id == note.issue_id))
    hook_agency = session.scalar(select(Webhook.agency_id).where(Webhook.id == note.webhook_id))
    return viewer.agency_id in (issue_agency, hook_agency)
