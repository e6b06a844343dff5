"""Is it already reported? Similar open issues near a point, support ("me too"), merging."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Response

from app.deps import (
    CurrentUser,
    Idempotent,
    IfMatch,
    PhotoLinksDep,
    Reporter,
    SessionDep,
    SettingsDep,
    SpatialDep,
)
from app.errors import problem_responses
from app.http.limits import Action, RateLimited
from app.http.route import UnitOfWorkRoute
from app.models import LonLat
from app.models.base import utcnow
from app.routers.issues import CurrentIssue
from app.routers.presenters import issue_read
from app.schemas.duplicates import (
    MergeRequest,
    ScoreParts,
    SimilarIssue,
    SimilarIssues,
    SupportState,
)
from app.schemas.issue import CategoryRef, IssueRead
from app.services import duplicates, issues

router = APIRouter(prefix="/issues", tags=["duplicates"], route_class=UnitOfWorkRoute)

DEFAULT_RADIUS_M = 200.0
# Beyond a kilometre "the same problem" is unlikely, and the candidates grow with the square.
MAX_RADIUS_M = 1000.0
TextQuery = Annotated[str, Query(max_length=5000)]


@router.get(
    "/similar",
    response_model=SimilarIssues,
    responses=problem_responses(422),
    summary="Is it already reported? Similar open issues near a point",
)
def find_similar_issues(
    session: SessionDep,
    spatial: SpatialDep,
    latitude: Annotated[float, Query(ge=-90, le=90)],
    longitude: Annotated[float, Query(ge=-180, le=180)],
    category: Annotated[str, Query(min_length=1, max_length=64, description="A category code.")],
    title: TextQuery = "",
    description: TextQuery = "",
    radius_m: Annotated[
        float, Query(gt=0, le=MAX_RADIUS_M, description="Metres around the point.")
    ] = DEFAULT_RADIUS_M,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> SimilarIssues:
    """Before posting a report: the open issues of the same category or one of its group within
    `radius_m`, best match first. The score is 0.6 text + 0.25 distance + 0.15 recency (each in
    [0, 1]): text is the share of character trigrams the title and description have in common
    (works for Thai, which has no spaces between words, and English alike), distance falls
    linearly to 0 at the radius, recency halves every 14 days. Support the one that matches
    instead of reporting it again. Public: no reporter data."""
    codes = duplicates.related_codes(session, category)
    found = duplicates.find_similar(
        session,
        spatial=spatial,
        query=duplicates.SimilarQuery(
            near=LonLat(longitude, latitude),
            category_codes=codes,
            title=title,
            description=description,
            radius_m=radius_m,
            limit=limit,
        ),
        now=utcnow(),
    )
    return SimilarIssues(
        items=[
            SimilarIssue(
                id=s.issue.public_id,
                category=CategoryRef.of(s.issue.category),
                title=s.issue.title,
                description=s.issue.description,
                status=s.issue.status,
                created_at=s.issue.created_at,
                latitude=s.issue.location.lat,
                longitude=s.issue.location.lon,
                distance_m=s.distance_m,
                supporter_count=s.supporter_count,
                score=s.score,
                score_parts=ScoreParts(text=s.text, distance=s.distance, recency=s.recency),
            )
            for s in found
        ],
        radius_m=radius_m,
        categories=list(codes),
    )


def _state(session: SessionDep, issue: CurrentIssue, supported: bool) -> SupportState:
    count = duplicates.supporter_counts(session, [issue.id]).get(issue.id, 0)
    return SupportState(issue=issue.public_id, supported=supported, supporter_count=count)


@router.post(
    "/{issue_id}/support",
    response_model=SupportState,
    dependencies=[RateLimited(Action.support)],
    responses=problem_responses(400, 401, 403, 404, 409),
    summary="Me too: support an open issue",
)
def support_issue(issue: CurrentIssue, session: SessionDep, user: Reporter) -> SupportState:
    """Say you have this problem too, with an account or only an `X-Device-Id`: you are
    counted once and follow the issue. 409 if you already support it, reported it yourself,
    or it is resolved or closed (the problem says what to do instead)."""
    duplicates.support(session, issue=issue, user=user)
    return _state(session, issue, True)


@router.delete(
    "/{issue_id}/support",
    response_model=SupportState,
    responses=problem_responses(400, 401, 404),
    summary="Withdraw your support",
)
def withdraw_support(issue: CurrentIssue, session: SessionDep, user: Reporter) -> SupportState:
    """Idempotent; you keep following the issue until you unfollow it."""
    duplicates.withdraw(session, issue=issue, user=user)
    return _state(session, issue, False)


@router.post(
    "/{issue_id}/merge",
    response_model=IssueRead,
    dependencies=[Idempotent],
    responses=problem_responses(400, 401, 403, 404, 409, 412, 413, 415, 422),
    summary="Merge a duplicate into the issue that reports the same problem",
)
def merge_issue(
    issue: CurrentIssue,
    body: Annotated[MergeRequest, Body()],
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    if_match: IfMatch,
    response: Response,
    links: PhotoLinksDep,
) -> IssueRead:
    """Staff of the agency handling this issue, or admins. It is resolved as `duplicate` with a
    link to `into`; its reporter, followers and supporters move over (counted once) and are
    told. 422 for itself or an unknown issue; 409 if either is already resolved, closed or
    merged. Answers with this (now merged) issue."""
    duplicates.merge(
        session,
        duplicate=issue,
        into=body.into,
        actor=user,
        note=body.note,
        expected_version=if_match,
    )
    issue = issues.get_issue(session, issue.public_id)
    response.headers["ETag"] = f'"{issue.version}"'
    return issue_read(session, issue, user, settings.reopen_window, links)
