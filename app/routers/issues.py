"""Issues: report, list (JSON or GeoJSON), read, edit, move through the lifecycle, timeline."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Header, Path, Request, Response
from sqlalchemy.orm import Session

from app.config import Settings
from app.deps import (
    CurrentUser,
    CursorsDep,
    Idempotent,
    IdempotentAfterUpload,
    IfMatch,
    LanguageDep,
    OptionalUser,
    PhotoLinksDep,
    PhotoStoreDep,
    Reporter,
    SessionDep,
    SettingsDep,
    SpatialDep,
    require_role,
)
from app.errors import answers, problem_responses
from app.http import conditional
from app.http.limits import Action, RateLimited
from app.http.links import route_url
from app.http.route import UnitOfWorkRoute
from app.models import Issue, IssueEvent, LonLat, PhotoKind, Role, User
from app.models.base import utcnow
from app.routers.presenters import conditional_page, issue_read, issue_reads, new_issue_read
from app.routers.query import IssueFilterDep, PageParams
from app.routers.uploads import REPORT_BODY, Report, read_report
from app.schemas.issue import (
    IssueEventRead,
    IssuePage,
    IssueRead,
    IssueReadPage,
    IssueUpdate,
    TimeframeRead,
    TransitionRequest,
)
from app.schemas.progress import ProgressRead
from app.services import (
    accounts,
    issues,
    lifecycle,
    moderation,
    permissions,
    photos,
    progress,
    timeframes,
)
from app.views import issues as issue_views

router = APIRouter(prefix="/issues", tags=["issues"], route_class=UnitOfWorkRoute)

GEOJSON = "application/geo+json"
PublicId = Annotated[str, Path(min_length=1, max_length=16, description="The issue's public id.")]


@answers(404, 422)
def load_issue(session: SessionDep, issue_id: PublicId, viewer: OptionalUser) -> Issue:
    return issues.get_visible_issue(session, issue_id, viewer)


CurrentIssue = Annotated[Issue, Depends(load_issue)]


@answers(409)
def load_unhidden_issue(issue: CurrentIssue) -> Issue:
    """For joining in (commenting, following, supporting): a hidden issue is refused even to the
    staff who still see it, until they restore it."""
    moderation.refuse_if_hidden(issue)
    return issue


UnhiddenIssue = Annotated[Issue, Depends(load_unhidden_issue)]
AdminUser = Annotated[User, require_role(Role.admin)]


def _etag(issue: Issue) -> str:
    return f'"{issue.version}"'


def _wants_geojson(request: Request) -> bool:
    return GEOJSON in request.headers.get("accept", "")


@router.post(
    "",
    status_code=201,
    response_model=IssueRead,
    dependencies=[RateLimited(Action.report)],
    responses=problem_responses(400, 401, 403, 409, 413, 415, 422, 503),
    openapi_extra=REPORT_BODY,
    summary="Report an issue",
)
def create_issue(
    report: Annotated[Report, Depends(read_report)],
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    spatial: SpatialDep,
    store: PhotoStoreDep,
    links: PhotoLinksDep,
    reporter: Reporter,
    _idempotent: IdempotentAfterUpload,
) -> IssueRead:
    """Report a problem at a point, with photos if sent as multipart. It is routed to every agency
    covering the point that handles the category; with none, it waits in the admins' unrouted
    queue."""
    body = report.body
    if body.language is not None or body.contact_needs is not None:
        accounts.set_contact_preferences(
            session, user=reporter, language=body.language, contact_needs=body.contact_needs
        )
    new = issues.create_issue(
        session,
        spatial=spatial,
        reporter=reporter,
        category_code=body.category,
        title=body.title,
        description=body.description,
        location=LonLat(body.longitude, body.latitude),
        address=body.address,
        answers=body.attributes,
        flags=body.flags,
        private=body.private,
        emergency_number=settings.emergency_number,
    )
    issue = new.issue
    added = (
        photos.add_photos(
            session,
            store=store,
            issue=issue,
            uploader=reporter,
            kind=PhotoKind.report,
            photos=report.photos,
            max_per_issue=settings.photo_max_per_issue,
        )
        if report.photos
        else []
    )
    issue.reporter = reporter
    response.headers["Location"] = route_url(request, "get_issue", issue_id=issue.public_id)
    response.headers["ETag"] = _etag(issue)
    return new_issue_read(new, reporter, settings.reopen_window, added, links)


@router.get(
    "",
    response_model=IssuePage,
    responses={
        304: {"description": "Not modified (If-None-Match)"},
        200: {
            "content": {
                GEOJSON: {"schema": {"$ref": "#/components/schemas/IssueFeatureCollection"}}
            }
        },
        **problem_responses(400, 422),
    },
    summary="List and search issues",
)
def list_issues(
    request: Request,
    session: SessionDep,
    spatial: SpatialDep,
    cursors: CursorsDep,
    issue_filter: IssueFilterDep,
    page: PageParams,
) -> Response:
    """Public issues, newest or nearest first, one keyset page at a time. Ask for
    `Accept: application/geo+json` to get a GeoJSON FeatureCollection. No reporter data.
    Each page carries a weak ETag; `If-None-Match` with it answers 304 while the page's issues
    and their versions are unchanged."""
    limit, cursor = page
    rows, next_cursor = issue_views.public_rows(
        session,
        spatial=spatial,
        cursors=cursors,
        issue_filter=issue_filter,
        limit=limit,
        cursor=cursor,
    )
    geojson = _wants_geojson(request)
    etag = conditional.weak_etag(
        ((r.public_id, r.version, r.distance_m) for r in rows),
        variant=GEOJSON if geojson else "application/json",
        next_cursor=next_cursor,
    )
    if conditional.none_match(request, etag):
        return conditional.not_modified(etag)
    if geojson:
        body = issue_views.feature_collection_json(rows, next_cursor)
        return Response(body, media_type=GEOJSON, headers={"ETag": etag})
    body = issue_views.page_json(rows, next_cursor)
    return Response(body, media_type="application/json", headers={"ETag": etag})


@router.get(
    "/unrouted",
    response_model=IssueReadPage,
    responses={
        304: {"description": "Not modified (If-None-Match)"},
        **problem_responses(400, 401, 403, 422),
    },
    summary="Issues no agency covers (admins)",
)
def list_unrouted_issues(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    spatial: SpatialDep,
    cursors: CursorsDep,
    issue_filter: IssueFilterDep,
    page: PageParams,
    admin: AdminUser,
    links: PhotoLinksDep,
) -> IssueReadPage | Response:
    limit, cursor = page
    rows, next_cursor = issues.list_issues(
        session,
        spatial=spatial,
        cursors=cursors,
        issue_filter=replace(
            issue_filter, unrouted=True, include_hidden=True, include_private=True
        ),
        limit=limit,
        cursor=cursor,
        with_reporter=True,
    )
    return conditional_page(
        request,
        response,
        IssueReadPage(
            items=issue_reads(session, rows, admin, settings.reopen_window, links),
            next_cursor=next_cursor,
        ),
    )


@router.get(
    "/{issue_id}",
    response_model=IssueRead,
    responses={
        304: {"description": "Not modified (If-None-Match)"},
        **problem_responses(401, 404),
    },
    summary="Read one issue",
)
def get_issue(
    issue: CurrentIssue,
    session: SessionDep,
    settings: SettingsDep,
    viewer: OptionalUser,
    response: Response,
    links: PhotoLinksDep,
    if_none_match: Annotated[str | None, Header()] = None,
) -> IssueRead | Response:
    """The issue with its deadlines and the actions you may take; reporter details only for
    the reporter, the agencies involved and admins. Sends an ETag for If-Match on changes."""
    if if_none_match is not None and if_none_match.strip() == _etag(issue):
        return Response(status_code=304, headers={"ETag": _etag(issue)})
    response.headers["ETag"] = _etag(issue)
    return issue_read(session, issue, viewer, settings.reopen_window, links)


@router.patch(
    "/{issue_id}",
    response_model=IssueRead,
    responses=problem_responses(400, 401, 403, 404, 409, 412, 413, 415, 422),
    summary="Edit an issue",
)
def update_issue(
    issue: CurrentIssue,
    body: IssueUpdate,
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    if_match: IfMatch,
    response: Response,
    links: PhotoLinksDep,
) -> IssueRead:
    """Reporters may fix their text until it is claimed; the handling agency may edit anything."""
    issues.update_issue(
        session,
        issue=issue,
        editor=user,
        expected_version=if_match,
        changes=body.model_dump(exclude_unset=True),
    )
    response.headers["ETag"] = _etag(issue)
    return issue_read(session, issue, user, settings.reopen_window, links)


@router.post(
    "/{issue_id}/transitions",
    response_model=IssueRead,
    dependencies=[Idempotent],
    responses=problem_responses(400, 401, 403, 404, 409, 412, 413, 415, 422),
    summary="Claim, start, resolve, close, reopen or transfer",
)
def transition_issue(
    issue: CurrentIssue,
    body: Annotated[TransitionRequest, Body()],
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    if_match: IfMatch,
    response: Response,
    links: PhotoLinksDep,
) -> IssueRead:
    """One lifecycle step. A step not allowed from the current status answers 409 naming the
    allowed actions; of two concurrent claims the first wins and the second gets 409."""
    take_step(session, issue=issue, step=body, actor=user, version=if_match, settings=settings)
    issue = issues.get_issue(session, issue.public_id)
    response.headers["ETag"] = _etag(issue)
    return issue_read(session, issue, user, settings.reopen_window, links)


def take_step(
    session: Session,
    *,
    issue: Issue,
    step: TransitionRequest,
    actor: User,
    version: int | None,
    settings: Settings,
) -> IssueEvent:
    """The lifecycle step a request body asks for (also each issue of a bulk request)."""
    return lifecycle.transition(
        session,
        issue=issue,
        action=step.action,
        actor=actor,
        expected_version=version,
        reopen_window=settings.reopen_window,
        note=step.note,
        is_public=getattr(step, "is_public", True),
        resolution=getattr(step, "resolution", None),
        to_agency_id=getattr(step, "to_agency", None),
    )


@router.get(
    "/{issue_id}/events",
    response_model=list[IssueEventRead],
    responses={
        304: {"description": "Not modified (If-None-Match)"},
        **problem_responses(401, 404),
    },
    summary="The issue's timeline",
)
def list_issue_events(
    issue: CurrentIssue,
    session: SessionDep,
    viewer: OptionalUser,
    request: Request,
    response: Response,
) -> list[IssueEventRead] | Response:
    """Every step in order. The public sees public steps and the role (not the name) of who took
    them; the agencies involved and admins also see internal notes and names. Events never
    change, so the weak ETag covers their ids (and whether names are shown)."""
    events = issues.list_events(session, issue=issue, viewer=viewer)
    show_names = permissions.sees_internal(
        viewer, issue, permissions.candidate_agency_ids(session, issue)
    )
    etag = conditional.weak_etag(
        [e.id for e in events], variant=f"events:{show_names}", next_cursor=None
    )
    if conditional.none_match(request, etag):
        return conditional.not_modified(etag)
    response.headers["ETag"] = etag
    return [IssueEventRead.of(event, show_names=show_names) for event in events]


@router.get(
    "/{issue_id}/timeframe",
    response_model=TimeframeRead,
    responses=problem_responses(404),
    summary="Its time frame: expected dates, on track or late",
)
def get_issue_timeframe(issue: CurrentIssue, session: SessionDep) -> TimeframeRead:
    """When the issue should be acknowledged and resolved (its category's service-level
    targets scaled by its priority), and whether it is on track, at risk, late, or was resolved
    in time and by how much."""
    frame = timeframes.of_issue(session, issue, utcnow())
    return TimeframeRead.model_validate(frame, from_attributes=True)


@router.get(
    "/{issue_id}/progress",
    response_model=ProgressRead,
    responses=problem_responses(404),
    summary="Its progress: every step, the one it is in now",
)
def get_issue_progress(issue: CurrentIssue, session: SessionDep, lang: LanguageDep) -> ProgressRead:
    """Reported, acknowledged, in progress, resolved, closed: each done, current, upcoming or
    skipped, when it happened, its deadline and how early or late it was; each reopening;
    labels in the request's language."""
    found = progress.of_issue(session, issue=issue, now=utcnow(), lang=lang)
    return ProgressRead.model_validate({"id": issue.public_id, **vars(found)}, from_attributes=True)
