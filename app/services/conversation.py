"""The conversation on an issue: public comments, internal notes, flags and their moderation.

Every comment and note also writes an event (`commented` / `noted`) linking to it, so the
timeline, the notifications and any live feed read one ordered sequence.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from app import i18n
from app.errors import AlreadyFlagged, Conflict, Forbidden, NotFound
from app.models import (
    Comment,
    CommentFlag,
    EventAction,
    Issue,
    IssueEvent,
    Language,
    User,
)
from app.models.base import utcnow
from app.services import issues, lifecycle, moderation, permissions, response_templates

TemplateLanguage = Literal["th", "en", "both"]


@dataclass(frozen=True)
class Viewer:
    """What one reader may see of an issue's conversation."""

    user: User | None
    internal: bool  # hidden comments' text, flag counts and names: the agencies involved, admins
    notes: bool  # internal notes: the handling agency and admins

    @classmethod
    def of(cls, session: Session, issue: Issue, user: User | None) -> Viewer:
        candidates = permissions.candidate_agency_ids(session, issue)
        return cls(
            user=user,
            internal=permissions.sees_internal(user, issue, candidates),
            notes=permissions.sees_notes(user, issue),
        )


def _check_note_author(session: Session, issue: Issue, author: User) -> None:
    if permissions.sees_notes(author, issue):
        return
    if issue.agency_id is None and permissions.is_candidate_staff(
        author, permissions.candidate_agency_ids(session, issue)
    ):
        raise lifecycle.claim_first(issue, "write internal notes")
    raise Forbidden(i18n.text("comment.notes_forbidden"))


def _from_template(
    session: Session,
    *,
    issue: Issue,
    author: User,
    template_id: int,
    language: TemplateLanguage | None,
    zone: ZoneInfo,
) -> tuple[str, int]:
    """The template of the handling agency, rendered with the issue's values in the reporter's
    language (or the one asked for, or both)."""
    if not permissions.is_handling_staff(author, issue):
        raise Forbidden(i18n.text("comment.templates_forbidden"))
    agency = issue.agency
    assert agency is not None  # handling staff: the issue has an agency
    template = response_templates.get_template(session, agency=agency, template_id=template_id)
    if language == "both":
        languages = [Language.th, Language.en]
    else:
        languages = [Language(language) if language else issue.reporter.language]
    body = response_templates.render(
        template, issue=issue, agency=agency, languages=languages, zone=zone
    )
    return body, template.id


def add_comment(
    session: Session,
    *,
    issue: Issue,
    author: User,
    body: str | None,
    internal: bool,
    template_id: int | None = None,
    language: TemplateLanguage | None = None,
    zone: ZoneInfo,
) -> Comment:
    """A public comment (anyone) or an internal note (the handling agency, admins), written or
    from a response template; its event tells the reporter and followers of a public one.
    Needs issue.agency, .category and .reporter loaded (`issues.get_issue` does)."""
    moderation.refuse_if_hidden(issue)
    if internal:
        _check_note_author(session, issue, author)
    used_template = None
    if template_id is not None:
        body, used_template = _from_template(
            session,
            issue=issue,
            author=author,
            template_id=template_id,
            language=language,
            zone=zone,
        )
    assert body is not None, "the request schema asks for a body or a template"
    comment = Comment(
        issue_id=issue.id,
        author_id=author.id,
        author_role=author.role.value,
        author_agency_id=author.agency_id,
        is_internal=internal,
        body=body,
        template_id=used_template,
        created_at=utcnow(),
    )
    session.add(comment)
    session.flush()
    lifecycle.record_event(
        session,
        issue=issue,
        action=EventAction.noted if internal else EventAction.commented,
        actor=author,
        from_status=issue.status,
        is_public=not internal,
        comment_id=comment.id,
    )
    session.flush()
    return comment


# Who wrote each comment, loaded with it (no query per comment).
WITH_AUTHORS = (joinedload(Comment.author), joinedload(Comment.author_agency))


def list_comments(session: Session, *, issue: Issue, viewer: Viewer) -> list[Comment]:
    """Oldest first; notes only for those who see them."""
    query = (
        select(Comment)
        .where(Comment.issue_id == issue.id)
        .options(*WITH_AUTHORS)
        .order_by(Comment.id)
    )
    if not viewer.notes:
        query = query.where(Comment.is_internal.is_(False))
    return list(session.scalars(query))


def timeline(
    session: Session, *, issue: Issue, viewer: Viewer
) -> list[tuple[IssueEvent, Comment | None]]:
    """The issue's events in order, each with the comment or note it is about; what the viewer
    may not see is left out by `issues.list_events`."""
    return _with_comments(session, issues.list_events(session, issue=issue, viewer=viewer.user))


def public_timelines(
    session: Session, issue_ids: Collection[int]
) -> dict[int, list[tuple[IssueEvent, Comment | None]]]:
    """What anyone sees of these issues' timelines, as `timeline` shows it to no one in
    particular, in two queries for any number of issues (a page of them)."""
    events = issues.public_events(session, issue_ids)
    paired = iter(_with_comments(session, [e for found in events.values() for e in found]))
    return {issue_id: [next(paired) for _ in found] for issue_id, found in events.items()}


def _with_comments(
    session: Session, events: list[IssueEvent]
) -> list[tuple[IssueEvent, Comment | None]]:
    ids = {e.comment_id for e in events if e.comment_id is not None}
    comments = (
        {
            c.id: c
            for c in session.scalars(
                select(Comment).where(Comment.id.in_(ids)).options(*WITH_AUTHORS)
            )
        }
        if ids
        else {}
    )
    return [(e, comments.get(e.comment_id) if e.comment_id is not None else None) for e in events]


def flag_counts(session: Session, comment_ids: Collection[int]) -> dict[int, int]:
    if not comment_ids:
        return {}
    counted: dict[int, int] = dict(
        session.execute(  # .all(): dict() would take a Result for a mapping
            select(CommentFlag.comment_id, func.count())
            .where(CommentFlag.comment_id.in_(comment_ids))
            .group_by(CommentFlag.comment_id)
        ).all()
    )
    return counted


def get_comment(session: Session, *, comment_id: int, user: User | None) -> tuple[Comment, Issue]:
    """The comment and its issue, if this user may see them (404 otherwise, as for one that
    does not exist)."""
    comment = session.scalar(select(Comment).where(Comment.id == comment_id).options(*WITH_AUTHORS))
    issue = None
    if comment is not None:
        public_id = session.scalar(select(Issue.public_id).where(Issue.id == comment.issue_id))
        try:
            issue = issues.get_visible_issue(session, str(public_id), user)
        except NotFound:
            issue = None  # answered as a comment not found: its issue is not named
    if (
        comment is None
        or issue is None
        or (comment.is_internal and not permissions.sees_notes(user, issue))
    ):
        raise NotFound(i18n.text("comment.not_found", id=comment_id))
    return comment, issue


def set_hidden(
    session: Session,
    *,
    comment: Comment,
    issue: Issue,
    actor: User,
    hidden: bool,
    reason: str | None,
) -> Comment:
    """The handling agency and admins hide an abusive comment (the public then sees only that
    one was hidden) or restore it; each change is an internal event linking to it."""
    moderation.check_moderator(session, issue=issue, actor=actor)
    if comment.is_hidden == hidden:
        return comment
    comment.hidden_at = utcnow() if hidden else None
    comment.hidden_by_id = actor.id if hidden else None
    comment.hidden_reason = reason if hidden else None
    lifecycle.record_event(
        session,
        issue=issue,
        action=EventAction.comment_hidden if hidden else EventAction.comment_restored,
        actor=actor,
        from_status=issue.status,
        note=reason,
        is_public=False,
        comment_id=comment.id,
    )
    session.flush()
    return comment


def flag(
    session: Session, *, comment: Comment, issue: Issue, user: User, reason: str | None
) -> CommentFlag:
    """Anyone, with an account or a device, flags a public comment as abusive, once."""
    moderation.refuse_if_hidden(issue)
    if comment.is_internal:
        raise Conflict(i18n.text("comment.note_not_flaggable"))
    exists = session.scalar(
        select(CommentFlag.id).where(
            CommentFlag.comment_id == comment.id, CommentFlag.user_id == user.id
        )
    )
    if exists is not None:
        raise AlreadyFlagged(i18n.text("comment.already_flagged", id=comment.id))
    row = CommentFlag(comment_id=comment.id, user_id=user.id, reason=reason, created_at=utcnow())
    session.add(row)
    session.flush()
    return row


def list_flags(
    session: Session, *, comment: Comment, issue: Issue, viewer: Viewer
) -> list[tuple[CommentFlag, User]]:
    """Who flagged it and why, for the agencies involved and admins."""
    if not viewer.internal:
        raise moderation.refusal()
    return [
        (f, u)
        for f, u in session.execute(
            select(CommentFlag, User)
            .join(User, User.id == CommentFlag.user_id)
            .where(CommentFlag.comment_id == comment.id)
            .order_by(CommentFlag.id)
        )
    ]
