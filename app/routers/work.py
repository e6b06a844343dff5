"""Agency work: assigning issues to staff, the personal work queue, bulk operations."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from app import i18n
from app.deps import (
    CurrentUser,
    CursorsDep,
    Idempotent,
    IfMatch,
    PhotoLinksDep,
    SessionDep,
    SettingsDep,
    SpatialDep,
    require_role,
)
from app.errors import DomainError, ValidationFailed, answers, domain_problem, problem_responses
from app.http.route import UnitOfWorkRoute
from app.models import Issue, Role, User
from app.models.base import MAX_ID
from app.routers.issues import CurrentIssue, take_step
from app.routers.presenters import issue_read, issue_reads
from app.routers.query import IssueFilterDep, PageParams, parse_csv
from app.schemas.issue import IssueRead, IssueReadPage
from app.schemas.problem import FieldProblem, Problem
from app.schemas.work import AssignmentUpdate, AssignRequest, BulkRequest, BulkResponse, BulkResult
from app.services import assignments, bulk, issues
from app.services.issues import IssueFilter, Sort

router = APIRouter(tags=["work"], route_class=UnitOfWorkRoute)

Staff = Annotated[User, require_role(Role.agent, Role.manager)]


@dataclass(frozen=True)
class AssigneeFilter:
    ids: tuple[int, ...]
    unassigned: bool


@answers(422)
def assignee_filter(
    user: CurrentUser,
    assignee: Annotated[
        str | None,
        Query(
            max_length=2000,
            description="Comma-separated: `me`, `none` (no one) or staff ids; any of them.",
            examples=["me,none"],
        ),
    ] = None,
) -> AssigneeFilter | None:
    if assignee is None:
        return None
    ids: list[int] = []
    for value in parse_csv(assignee):
        if value == "me":
            ids.append(user.id)
        elif value.isdigit() and 1 <= int(value) <= MAX_ID:
            ids.append(int(value))
        elif value != "none":
            message = f"unknown assignee {value!r}; use me, none or a staff id"
            raise ValidationFailed(
                i18n.text("queue.invalid_assignee", value=value),
                errors=[FieldProblem(location="query.assignee", message=message, code="invalid")],
            )
    return AssigneeFilter(tuple(ids), "none" in parse_csv(assignee))


AssigneeDep = Annotated[AssigneeFilter | None, Depends(assignee_filter)]


def queue_filter(base: IssueFilter, agency_id: int, assignee: AssigneeFilter | None) -> IssueFilter:
    """A work queue: the agency's issues and those routed to it unclaimed, by assignee. Staff
    work hidden and private issues too (both are kept from the public only)."""
    queue = replace(base, queue_agency_id=agency_id, include_hidden=True, include_private=True)
    if assignee is None:
        return queue
    return replace(queue, assignee_ids=assignee.ids, include_unassigned=assignee.unassigned)


@router.get(
    "/users/me/queue",
    response_model=IssueReadPage,
    responses=problem_responses(400, 401, 403, 422),
    summary="My work queue (staff)",
)
def list_my_queue(
    user: Staff,
    session: SessionDep,
    settings: SettingsDep,
    spatial: SpatialDep,
    cursors: CursorsDep,
    issue_filter: IssueFilterDep,
    assignee: AssigneeDep,
    page: PageParams,
    links: PhotoLinksDep,
) -> IssueReadPage:
    """What you can work on: issues assigned to you, and your agency's issues no one is
    assigned to (those routed to it and not yet claimed included), most at risk first: late
    ones, then the soonest due date of the current step. `assignee` narrows it (default
    `me,none`); the other filters are the issue list's."""
    assert user.agency_id is not None  # staff always belong to an agency
    limit, cursor = page
    rows, next_cursor = issues.list_issues(
        session,
        spatial=spatial,
        cursors=cursors,
        issue_filter=queue_filter(
            issue_filter, user.agency_id, assignee or AssigneeFilter((user.id,), True)
        ),
        limit=limit,
        cursor=cursor,
        with_reporter=True,
        default_sort=Sort.risk,
    )
    return IssueReadPage(
        items=issue_reads(session, rows, user, settings.reopen_window, links),
        next_cursor=next_cursor,
    )


@router.put(
    "/issues/{issue_id}/assignee",
    response_model=IssueRead,
    responses=problem_responses(400, 401, 403, 404, 409, 412, 413, 415, 422),
    summary="Assign the issue to a staff member, or release it",
)
def assign_issue(
    issue: CurrentIssue,
    body: AssignmentUpdate,
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    if_match: IfMatch,
    response: Response,
    links: PhotoLinksDep,
) -> IssueRead:
    """Managers of the handling agency (and admins) assign it to any active agent or manager of
    that agency; agents take an unassigned issue for themselves or release their own. The new
    assignee is told.
    An issue no agency has claimed yet must be claimed first (409 claim-first)."""
    assignments.assign(
        session, issue=issue, actor=user, assignee_id=body.assignee, expected_version=if_match
    )
    issue = issues.get_issue(session, issue.public_id)  # reloaded with what the answer shows
    response.headers["ETag"] = f'"{issue.version}"'
    return issue_read(session, issue, user, settings.reopen_window, links)


def _problem(request: Request, error: DomainError) -> Problem:
    # Worded exactly as the same error would be if the item had been its own request.
    return Problem.model_validate_json(bytes(domain_problem(request, error).body))


@router.post(
    "/issues/bulk",
    response_model=BulkResponse,
    dependencies=[Idempotent],
    responses=problem_responses(400, 401, 409, 413, 415, 422),
    summary="Claim, assign or move many issues at once",
)
def bulk_change(
    body: BulkRequest,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
) -> BulkResponse:
    """One action (`do`: a lifecycle step as in /transitions, or `assign`) on up to 100
    issues. Each issue succeeds or fails on its own, exactly as its own request would (a
    failure undoes nothing else) and gets a result in the order sent: `status` 200 with the new
    `version`, or the 4xx and its `problem`. The answer itself is 200 whenever the request
    was understood. An item's `version` works like If-Match (`"*"`: any version): staff must
    give one, an item without fails with 428 as a change without If-Match would; an issue
    listed twice is changed once (the repeat fails with 422)."""
    do = body.do

    def change(issue: Issue, version: int | None) -> object:
        if isinstance(do, AssignRequest):
            return assignments.assign(
                session, issue=issue, actor=user, assignee_id=do.assignee, expected_version=version
            )
        return take_step(
            session, issue=issue, step=do, actor=user, version=version, settings=settings
        )

    outcomes = bulk.apply_each(
        session, actor=user, items=[(item.id, item.version) for item in body.issues], change=change
    )
    results = [
        BulkResult(
            id=o.public_id,
            status=o.error.status if o.error else 200,
            version=o.version,
            problem=_problem(request, o.error) if o.error else None,
        )
        for o in outcomes
    ]
    failed = sum(1 for o in outcomes if o.error)
    return BulkResponse(results=results, succeeded=len(results) - failed, failed=failed)
