"""Moderation of issues: hiding an abusive issue from every public surface and back, citizens'
flags, review before publishing, and redaction of text (the original kept for the audit only)."""

from __future__ import annotations

import json

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import i18n
from app.errors import (
    Conflict,
    DomainError,
    FieldText,
    Forbidden,
    IssueAlreadyFlagged,
    IssueHidden,
    NotAwaitingReview,
    ValidationFailed,
)
from app.models import (
    Comment,
    EventAction,
    FlagReason,
    Issue,
    IssueFeedback,
    IssueModerationFlag,
    IssueStatus,
    Photo,
    RedactedField,
    Redaction,
    Resolution,
    Review,
    User,
)
from app.models.base import utcnow
from app.services import lifecycle, permissions, photos
from app.storage import PhotoStore
from app.storage.images import Limits, Region


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


def flag_issue(
    session: Session, *, issue: Issue, user: User, reason: FlagReason, note: str | None
) -> IssueModerationFlag:
    """Anyone who sees an issue, with an account or a device, flags it for its moderators with a
    reason, once."""
    refuse_if_hidden(issue)
    taken = session.scalar(
        select(IssueModerationFlag.id).where(
            IssueModerationFlag.issue_id == issue.id, IssueModerationFlag.user_id == user.id
        )
    )
    if taken is not None:
        raise IssueAlreadyFlagged(i18n.text("moderation.already_flagged", issue_id=issue.public_id))
    row = IssueModerationFlag(
        issue_id=issue.id, user_id=user.id, reason=reason, note=note, created_at=utcnow()
    )
    session.add(row)
    session.flush()
    return row


def list_issue_flags(
    session: Session, *, issue: Issue, viewer: User
) -> list[tuple[IssueModerationFlag, User]]:
    """Who flagged the issue and why, for the agencies involved and admins."""
    if not permissions.sees_internal(
        viewer, issue, permissions.candidate_agency_ids(session, issue)
    ):
        raise refusal()
    return [
        (f, u)
        for f, u in session.execute(
            select(IssueModerationFlag, User)
            .join(User, User.id == IssueModerationFlag.user_id)
            .where(IssueModerationFlag.issue_id == issue.id)
            .order_by(IssueModerationFlag.id)
        )
    ]


def review(
    session: Session,
    *,
    issue: Issue,
    actor: User,
    approve: bool,
    reason: str | None,
    changes: dict[str, str],
) -> Issue:
    """Staff publish a report awaiting review, as it is or with their edits, or reject it with
    a reason its reporter is told (in a message of their language, the reason as written); a
    rejected report is closed as not actionable and never published."""
    if not permissions.may_review(actor, issue, permissions.candidate_agency_ids(session, issue)):
        raise Forbidden(i18n.text("moderation.review_forbidden"))
    if issue.review != Review.pending:
        raise NotAwaitingReview(
            i18n.text("moderation.not_awaiting_review", issue_id=issue.public_id)
        )
    from_status = issue.status
    now = utcnow()
    message = None
    if approve:
        changed = sorted(name for name, value in changes.items() if getattr(issue, name) != value)
        for name in changed:
            setattr(issue, name, changes[name])
        if changed:
            message = i18n.text(
                "message.edited", fields=[i18n.text(f"label.field.{name}") for name in changed]
            )
        issue.review = Review.approved
    else:
        issue.review = Review.rejected
        issue.status = IssueStatus.closed
        issue.resolution = Resolution.not_actionable
        issue.closed_at = now
    issue.updated_at = now
    lifecycle.record_event(
        session,
        issue=issue,
        action=EventAction.review_approved if approve else EventAction.review_rejected,
        actor=actor,
        from_status=from_status,
        note=reason,
        message=message,
    )
    session.flush()
    return issue


def _record_redaction(
    session: Session,
    *,
    issue: Issue,
    actor: User,
    field: RedactedField,
    original: str,
    reason: str,
    comment_id: int | None = None,
) -> None:
    session.add(
        Redaction(
            issue_id=issue.id,
            comment_id=comment_id,
            field=field,
            original=original,
            reason=reason,
            redacted_by_id=actor.id,
            created_at=utcnow(),
        )
    )
    issue.updated_at = utcnow()  # a new version: cached copies must not show the old text
    # Public, so the timeline says that (not what) a moderator removed; silent, as edits are.
    lifecycle.record_event(
        session,
        issue=issue,
        action=EventAction.redacted,
        actor=actor,
        from_status=issue.status,
        message=i18n.text("message.redacted", field=i18n.text(f"label.field.{field.value}")),
        comment_id=comment_id,
    )
    session.flush()


def redact_issue(
    session: Session, *, issue: Issue, actor: User, field: RedactedField, text: str, reason: str
) -> Issue:
    """The handling agency and admins replace an issue's title or description with a redacted
    version; the original is kept for the audit only (`list_redactions`)."""
    check_moderator(session, issue=issue, actor=actor)
    original = getattr(issue, field.value)
    if text == original:
        raise unchanged()
    setattr(issue, field.value, text)
    _record_redaction(
        session, issue=issue, actor=actor, field=field, original=original, reason=reason
    )
    return issue


def redact_comment(
    session: Session, *, comment: Comment, issue: Issue, actor: User, text: str, reason: str
) -> Comment:
    """The same for a public comment (a reporter's answer with words of theirs included)."""
    check_moderator(session, issue=issue, actor=actor)
    if comment.is_internal:
        raise Conflict(i18n.text("moderation.note_not_redacted"))
    if text == comment.body:
        raise unchanged()
    original, comment.body = comment.body, text
    session.execute(
        update(IssueFeedback).where(IssueFeedback.comment_id == comment.id).values(comment=text)
    )
    _record_redaction(
        session,
        issue=issue,
        actor=actor,
        field=RedactedField.comment,
        original=original,
        reason=reason,
        comment_id=comment.id,
    )
    return comment


def redact_photo(
    session: Session,
    *,
    store: PhotoStore,
    photo: Photo,
    issue: Issue,
    actor: User,
    region: Region,
    reason: str,
    limits: Limits,
) -> Photo:
    """The handling agency and admins fill in a region of a photo (a face, a number plate): every
    rendition anyone is served is re-made without it; the original files are kept for the
    audit only (`list_redactions`)."""
    check_moderator(session, issue=issue, actor=actor)
    originals = photos.redact(session, store=store, photo=photo, region=region, limits=limits)
    session.add(
        Redaction(
            issue_id=issue.id,
            photo_id=photo.id,
            field=RedactedField.photo,
            original=json.dumps(originals, sort_keys=True),
            reason=reason,
            redacted_by_id=actor.id,
            created_at=utcnow(),
        )
    )
    issue.updated_at = utcnow()
    event = lifecycle.record_event(
        session,
        issue=issue,
        action=EventAction.redacted,
        actor=actor,
        from_status=issue.status,
        message=i18n.text("message.redacted", field=i18n.text("label.field.photo")),
    )
    event.photo_id = photo.id
    session.flush()
    return photo


def unchanged() -> ValidationFailed:
    return ValidationFailed(
        i18n.text("moderation.redaction_unchanged"),
        errors=[FieldText("body.text", i18n.text("error.field.unchanged"), "unchanged")],
    )


def list_redactions(session: Session, *, issue: Issue, viewer: User) -> list[Redaction]:
    """The originals of what was redacted: for admins, the audit, and no one else."""
    if not permissions.is_admin(viewer):
        raise Forbidden(i18n.text("moderation.redactions_admin_only"))
    return list(
        session.scalars(
            select(Redaction).where(Redaction.issue_id == issue.id).order_by(Redaction.id)
        )
    )
