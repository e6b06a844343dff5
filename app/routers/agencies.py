"""Agencies, their jurisdictions and their work queues."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request, Response

from app import i18n
from app.deps import (
    CurrentUser,
    CursorsDep,
    Idempotent,
    PathId,
    PhotoLinksDep,
    SessionDep,
    SettingsDep,
    SpatialDep,
    require_role,
)
from app.errors import Forbidden, answers, problem_responses
from app.http.route import UnitOfWorkRoute
from app.models import Agency, Role, User
from app.routers.presenters import conditional_page, issue_reads
from app.routers.query import IssueFilterDep, PageParams
from app.routers.work import AssigneeDep, queue_filter
from app.schemas.catalog import AgencyCreate, AgencyRead, AgencyUpdate
from app.schemas.issue import IssueReadPage
from app.services import catalog, issues, permissions
from app.services.issues import Sort
from app.spatial.geojson import area_geometry

router = APIRouter(prefix="/agencies", tags=["agencies"], route_class=UnitOfWorkRoute)

AdminUser = Annotated[User, require_role(Role.admin)]
GEOJSON = "application/geo+json"


@answers(404, 422)
def load_agency(session: SessionDep, agency_id: PathId) -> Agency:
    return catalog.get_agency(session, agency_id)


CurrentAgency = Annotated[Agency, Depends(load_agency)]


def _read(agency: Agency) -> AgencyRead:
    return AgencyRead(
        id=agency.id,
        slug=agency.slug,
        name_th=agency.name_th,
        name_en=agency.name_en,
        email=agency.email,
        phone=agency.phone,
        categories=[c.code for c in agency.categories],
    )


@router.get("", response_model=list[AgencyRead], summary="All agencies")
def list_agencies(session: SessionDep) -> list[AgencyRead]:
    return [_read(a) for a in catalog.list_agencies(session)]


@router.post(
    "",
    status_code=201,
    response_model=AgencyRead,
    dependencies=[Idempotent],
    responses=problem_responses(400, 401, 403, 409, 413, 415, 422),
    summary="Add an agency (admins)",
)
def create_agency(body: AgencyCreate, session: SessionDep, admin: AdminUser) -> AgencyRead:
    agency = catalog.create_agency(
        session,
        slug=body.slug,
        name_th=body.name_th,
        name_en=body.name_en,
        email=body.email,
        phone=body.phone,
        category_codes=body.categories,
        jurisdiction=body.jurisdiction,
    )
    return _read(agency)


@router.get(
    "/{agency_id}",
    response_model=AgencyRead,
    responses=problem_responses(404, 422),
    summary="One agency",
)
def get_agency(agency: CurrentAgency) -> AgencyRead:
    return _read(agency)


@router.patch(
    "/{agency_id}",
    response_model=AgencyRead,
    responses=problem_responses(400, 401, 403, 404, 413, 415, 422),
    summary="Edit an agency (admins, its managers)",
)
def update_agency(
    agency: CurrentAgency, body: AgencyUpdate, session: SessionDep, user: CurrentUser
) -> AgencyRead:
    catalog.update_agency(
        session, agency=agency, editor=user, changes=body.model_dump(exclude_unset=True)
    )
    return _read(agency)


@router.get(
    "/{agency_id}/jurisdiction",
    responses={
        200: {"content": {GEOJSON: {}}, "description": "A GeoJSON Feature"},
        **problem_responses(404, 422),
    },
    summary="The agency's jurisdiction as GeoJSON",
)
def get_agency_jurisdiction(agency: CurrentAgency) -> Response:
    feature: dict[str, Any] = {
        "type": "Feature",
        "id": agency.slug,
        "geometry": area_geometry(agency.jurisdiction),
        "properties": {"name_th": agency.name_th, "name_en": agency.name_en},
    }
    return Response(orjson.dumps(feature), media_type=GEOJSON)


@router.get(
    "/{agency_id}/queue",
    response_model=IssueReadPage,
    responses={
        304: {"description": "Not modified (If-None-Match)"},
        **problem_responses(400, 401, 403, 404, 422),
    },
    summary="The agency's work queue",
)
def list_agency_queue(
    request: Request,
    response: Response,
    agency: CurrentAgency,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    spatial: SpatialDep,
    cursors: CursorsDep,
    issue_filter: IssueFilterDep,
    assignee: AssigneeDep,
    page: PageParams,
    links: PhotoLinksDep,
) -> IssueReadPage | Response:
    """Issues this agency handles, and open issues routed to it that no one has claimed yet,
    with the usual filters and by assignee; most at risk first (late ones, then the soonest
    due date of the current step; resolved ones last) unless `sort` says otherwise. For the
    agency's staff and admins."""
    if not permissions.can_see_agency_queue(user, agency.id):
        raise Forbidden(i18n.text("error.agency.queue_who"))
    limit, cursor = page
    rows, next_cursor = issues.list_issues(
        session,
        spatial=spatial,
        cursors=cursors,
        issue_filter=queue_filter(issue_filter, agency.id, assignee),
        limit=limit,
        cursor=cursor,
        with_reporter=True,
        default_sort=Sort.risk,
    )
    return conditional_page(
        request,
        response,
        IssueReadPage(
            items=issue_reads(session, rows, user, settings.reopen_window, links),
            next_cursor=next_cursor,
        ),
    )
