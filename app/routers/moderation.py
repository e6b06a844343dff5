"""Moderation of issues: citizens' flags, review before publishing, redaction of text."""

from __future__ import annotations

from fastapi import APIRouter

from app.deps import (
    CurrentUser,
    Idempotent,
    LanguageDep,
    PhotoLinksDep,
    PhotoStoreDep,
    Reporter,
    SessionDep,
    SettingsDep,
)
from app.errors import problem_responses
from app.http.caching import Personal
from app.http.limits import Action, RateLimited
from app.http.route import UnitOfWorkRoute
from app.routers.comments import CurrentComment, comment_reads
from app.routers.issues import CurrentIssue
from app.routers.photos import CurrentPhoto
from app.schemas.conversation import CommentRead
from app.schemas.issue import ActorRef
from app.schemas.moderation import (
    CommentRedactionCreate,
    IssueFlagCreate,
    IssueFlagRead,
    IssueFlagState,
    IssueRedactionCreate,
    PhotoRedactionCreate,
    RedactionRead,
    RedactionState,
    ReviewDecision,
    ReviewState,
)
from app.schemas.photo import PhotoRead
from app.services import moderation, photos
from app.services.conversation import Viewer
from app.storage.images import Region

router = APIRouter(tags=["moderation"], route_class=UnitOfWorkRoute)


@router.post(
    "/issues/{issue_id}/flags",
    status_code=201,
    response_model=IssueFlagState,
    dependencies=[RateLimited(Action.flag), Idempotent],
    responses=problem_responses(400, 401, 404, 409, 413, 415, 422, 429),
    summary="Flag an issue for its moderators",
)
def flag_issue(
    issue: CurrentIssue, body: IssueFlagCreate, session: SessionDep, user: Reporter
) -> IssueFlagState:
    """Anyone, with an account or only an `X-Device-Id`, once per issue (again: 409), saying why:
    abuse, personal data, not a civic issue, or a duplicate."""
    moderation.flag_issue(session, issue=issue, user=user, reason=body.reason, note=body.note)
    return IssueFlagState(issue=issue.public_id, flagged=True, reason=body.reason)


@router.get(
    "/issues/{issue_id}/flags",
    response_model=list[IssueFlagRead],
    dependencies=[Personal],
    responses=problem_responses(401, 403, 404),
    summary="Who flagged an issue and why (staff)",
)
def list_issue_flags(
    issue: CurrentIssue, session: SessionDep, user: CurrentUser
) -> list[IssueFlagRead]:
    """The agencies involved and admins."""
    return [
        IssueFlagRead(
            at=flag.created_at,
            reason=flag.reason,
            note=flag.note,
            by=ActorRef(role=by.role.value, agency=None, name=by.display_name or None),
        )
        for flag, by in moderation.list_issue_flags(session, issue=issue, viewer=user)
    ]


@router.post(
    "/issues/{issue_id}/review",
    response_model=ReviewState,
    responses=problem_responses(400, 401, 403, 404, 409, 413, 415, 422),
    summary="Publish a report awaiting review (perhaps edited), or reject it",
)
def review_issue(
    issue: CurrentIssue, body: ReviewDecision, session: SessionDep, user: CurrentUser
) -> ReviewState:
    """Reports of a category with `review_before_publish` are seen only by their reporter, the
    agencies involved and admins until staff of those agencies (or an admin) approve them; a
    rejected report is closed and never published, and its reporter is told the reason."""
    moderation.review(
        session,
        issue=issue,
        actor=user,
        approve=body.decision == "approve",
        reason=body.reason,
        changes=body.changes(),
    )
    assert issue.review is not None
    return ReviewState(issue=issue.public_id, review=issue.review, status=issue.status.value)


@router.post(
    "/issues/{issue_id}/redactions",
    status_code=201,
    response_model=RedactionState,
    responses=problem_responses(400, 401, 403, 404, 409, 413, 415, 422),
    summary="Redact an issue's title or description",
)
def redact_issue(
    issue: CurrentIssue, body: IssueRedactionCreate, session: SessionDep, user: CurrentUser
) -> RedactionState:
    """The handling agency and admins. The text sent replaces the field everywhere (pages, the
    API, Open311, exports); the original is kept for the audit only."""
    moderation.redact_issue(
        session, issue=issue, actor=user, field=body.field, text=body.text, reason=body.reason
    )
    return RedactionState(issue=issue.public_id, field=body.field)


@router.get(
    "/issues/{issue_id}/redactions",
    response_model=list[RedactionRead],
    dependencies=[Personal],
    responses=problem_responses(401, 403, 404),
    summary="The originals of redacted text (admins: the audit)",
)
def list_redactions(
    issue: CurrentIssue, session: SessionDep, user: CurrentUser
) -> list[RedactionRead]:
    return [
        RedactionRead.model_validate(r, from_attributes=True)
        for r in moderation.list_redactions(session, issue=issue, viewer=user)
    ]


@router.post(
    "/photos/{photo_id}/redactions",
    status_code=201,
    response_model=PhotoRead,
    responses=problem_responses(400, 401, 403, 404, 413, 415, 422, 503),
    summary="Fill in a region of a photo (a face, a number plate)",
)
def redact_photo(
    current: CurrentPhoto,
    body: PhotoRedactionCreate,
    session: SessionDep,
    user: CurrentUser,
    store: PhotoStoreDep,
    settings: SettingsDep,
    links: PhotoLinksDep,
) -> PhotoRead:
    """The handling agency and admins. Every rendition is re-made with the region painted over;
    the original files are kept for the audit only (admins: `GET /issues/{id}/redactions`)."""
    photo, issue = current
    moderation.redact_photo(
        session,
        store=store,
        photo=photo,
        issue=issue,
        actor=user,
        region=Region(**body.region.model_dump()),
        reason=body.reason,
        limits=photos.limits_of(settings),
    )
    return photos.photo_read(photo, internal=True, links=links)


@router.post(
    "/comments/{comment_id}/redactions",
    status_code=201,
    response_model=CommentRead,
    responses=problem_responses(400, 401, 403, 404, 409, 413, 415, 422),
    summary="Redact a public comment",
)
def redact_comment(
    current: CurrentComment,
    body: CommentRedactionCreate,
    session: SessionDep,
    user: CurrentUser,
    lang: LanguageDep,
) -> CommentRead:
    """The handling agency and admins; the original is kept for the audit only."""
    comment, issue = current
    moderation.redact_comment(
        session, comment=comment, issue=issue, actor=user, text=body.text, reason=body.reason
    )
    return comment_reads(session, [comment], issue, Viewer.of(session, issue, user), lang)[0]
