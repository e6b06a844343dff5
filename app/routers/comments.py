"""The conversation on an issue: comments and notes, its timeline, flags and moderation."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends

from app import i18n
from app.deps import (
    CurrentUser,
    Idempotent,
    LanguageDep,
    OptionalUser,
    PathId,
    Reporter,
    SessionDep,
    SettingsDep,
)
from app.errors import answers, problem_responses
from app.http.limits import Action, RateLimited
from app.http.route import UnitOfWorkRoute
from app.models import Comment, Issue, Language
from app.routers.issues import CurrentIssue, UnhiddenIssue
from app.schemas.conversation import (
    CommentCreate,
    CommentRead,
    FlagCreate,
    FlagRead,
    FlagState,
    IssueModerationState,
    Moderation,
    TimelineEntry,
)
from app.schemas.issue import ActorRef, AgencyRef, IssueEventRead
from app.services import conversation, moderation
from app.services.conversation import Viewer

router = APIRouter(tags=["conversation"], route_class=UnitOfWorkRoute)


@answers(404, 422)
def load_comment(
    session: SessionDep, comment_id: PathId, user: OptionalUser
) -> tuple[Comment, Issue]:
    return conversation.get_comment(session, comment_id=comment_id, user=user)


CurrentComment = Annotated[tuple[Comment, Issue], Depends(load_comment)]


def _comment_read(
    comment: Comment, issue: Issue, viewer: Viewer, lang: Language, flags: dict[int, int]
) -> CommentRead:
    """The author's role and agency for everyone, the name for the agencies involved and admins
    (as on the timeline); a hidden comment's text and reason only for them too."""
    shows_text = viewer.internal or not comment.is_hidden
    return CommentRead(
        id=comment.id,
        issue=issue.public_id,
        kind="note" if comment.is_internal else "comment",
        body=comment.body if shows_text else None,
        hidden=comment.is_hidden,
        notice=None if shows_text else i18n.t("comment.hidden_placeholder", lang),
        hidden_reason=comment.hidden_reason if viewer.internal else None,
        author=ActorRef(
            role=comment.author_role,
            agency=AgencyRef.of(comment.author_agency),
            name=comment.author.display_name if viewer.internal else None,
        ),
        mine=viewer.user is not None and viewer.user.id == comment.author_id,
        created_at=comment.created_at,
        flag_count=flags.get(comment.id, 0) if viewer.internal else None,
        template_id=comment.template_id if viewer.internal else None,
    )


def comment_reads(
    session: SessionDep, comments: list[Comment], issue: Issue, viewer: Viewer, lang: Language
) -> list[CommentRead]:
    flags = conversation.flag_counts(session, [c.id for c in comments]) if viewer.internal else {}
    return [_comment_read(c, issue, viewer, lang, flags) for c in comments]


@router.post(
    "/issues/{issue_id}/comments",
    status_code=201,
    response_model=CommentRead,
    dependencies=[RateLimited(Action.comment), Idempotent],
    responses=problem_responses(400, 401, 403, 404, 409, 413, 415, 422),
    summary="Comment on an issue, or write an internal note",
)
def create_comment(
    issue: UnhiddenIssue,
    body: CommentCreate,
    session: SessionDep,
    settings: SettingsDep,
    author: Reporter,
    lang: LanguageDep,
) -> CommentRead:
    """Anyone, with an account or only an `X-Device-Id`, comments publicly; the reporter and
    followers are told. Staff of the handling agency and admins may instead write an internal
    note (`internal: true`), and the handling agency may answer from one of its response
    templates, filled with the issue's values in the reporter's language (or th, en, both)."""
    comment = conversation.add_comment(
        session,
        issue=issue,
        author=author,
        body=body.body,
        internal=body.internal,
        template_id=body.template_id,
        language=body.language,
        zone=ZoneInfo(settings.display_timezone),
    )
    session.refresh(comment, ["author", "author_agency"])
    return comment_reads(session, [comment], issue, Viewer.of(session, issue, author), lang)[0]


@router.get(
    "/issues/{issue_id}/comments",
    response_model=list[CommentRead],
    responses=problem_responses(401, 404),
    summary="The issue's comments (and notes, for its agency)",
)
def list_comments(
    issue: CurrentIssue, session: SessionDep, user: OptionalUser, lang: LanguageDep
) -> list[CommentRead]:
    """Oldest first. Hidden comments show to the public as a notice without their text."""
    viewer = Viewer.of(session, issue, user)
    comments = conversation.list_comments(session, issue=issue, viewer=viewer)
    return comment_reads(session, comments, issue, viewer, lang)


@router.get(
    "/issues/{issue_id}/timeline",
    response_model=list[TimelineEntry],
    responses=problem_responses(401, 404),
    summary="The issue's timeline: its steps with comments and notes, in order",
)
def get_timeline(
    issue: CurrentIssue, session: SessionDep, user: OptionalUser, lang: LanguageDep
) -> list[TimelineEntry]:
    """What `/events` lists, each comment or note event carrying its comment. The public sees
    public steps and comments; the agencies involved also internal steps and names; the
    handling agency and admins also notes."""
    viewer = Viewer.of(session, issue, user)
    steps = conversation.timeline(session, issue=issue, viewer=viewer)
    comments = [c for _, c in steps if c is not None]
    reads = {r.id: r for r in comment_reads(session, comments, issue, viewer, lang)}
    return [
        TimelineEntry(
            **IssueEventRead.of(event, show_names=viewer.internal).model_dump(),
            comment=reads[comment.id] if comment is not None else None,
        )
        for event, comment in steps
    ]


@router.patch(
    "/comments/{comment_id}",
    response_model=CommentRead,
    responses=problem_responses(400, 401, 403, 404, 409, 413, 415, 422),
    summary="Hide an abusive comment, or restore it",
)
def moderate_comment(
    current: CurrentComment,
    body: Moderation,
    session: SessionDep,
    user: CurrentUser,
    lang: LanguageDep,
) -> CommentRead:
    """The handling agency and admins; a reason is required to hide. Each change is an
    internal timeline event (`comment_hidden` / `comment_restored`)."""
    comment, issue = current
    conversation.set_hidden(
        session, comment=comment, issue=issue, actor=user, hidden=body.hidden, reason=body.reason
    )
    return comment_reads(session, [comment], issue, Viewer.of(session, issue, user), lang)[0]


@router.post(
    "/comments/{comment_id}/flags",
    status_code=201,
    response_model=FlagState,
    dependencies=[RateLimited(Action.flag)],
    responses=problem_responses(400, 401, 404, 409, 413, 415, 422, 429),
    summary="Flag a comment as abusive",
)
def flag_comment(
    current: CurrentComment, body: FlagCreate, session: SessionDep, user: Reporter
) -> FlagState:
    """Anyone, with an account or only an `X-Device-Id`, once per comment (again: 409)."""
    comment, issue = current
    conversation.flag(session, comment=comment, issue=issue, user=user, reason=body.reason)
    return FlagState(comment=comment.id, flagged=True)


@router.get(
    "/comments/{comment_id}/flags",
    response_model=list[FlagRead],
    responses=problem_responses(401, 403, 404),
    summary="Who flagged a comment and why (staff)",
)
def list_comment_flags(
    current: CurrentComment, session: SessionDep, user: CurrentUser
) -> list[FlagRead]:
    comment, issue = current
    flags = conversation.list_flags(
        session, comment=comment, issue=issue, viewer=Viewer.of(session, issue, user)
    )
    return [
        FlagRead(
            at=flag.created_at,
            reason=flag.reason,
            by=ActorRef(role=by.role.value, agency=None, name=by.display_name or None),
        )
        for flag, by in flags
    ]


@router.post(
    "/issues/{issue_id}/moderation",
    response_model=IssueModerationState,
    responses=problem_responses(400, 401, 403, 404, 409, 413, 415, 422),
    summary="Hide an abusive issue from the public, or show it again",
)
def moderate_issue(
    issue: CurrentIssue, body: Moderation, session: SessionDep, user: CurrentUser
) -> IssueModerationState:
    """The handling agency and admins. A hidden issue leaves every public list, read, Open311
    answer, export and statistic; its agencies and admins still see and work on it. Each change
    is an internal timeline event (`hidden` / `unhidden`)."""
    moderation.set_issue_hidden(
        session, issue=issue, actor=user, hidden=body.hidden, reason=body.reason
    )
    return IssueModerationState(issue=issue.public_id, hidden=issue.hidden_at is not None)
