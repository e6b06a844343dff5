"""A SeeClickFix API v2 read surface at /seeclickfix/api/v2, so that SeeClickFix clients can be
pointed at a civicloop city: issues (with their comments), request types where a point is, and
places (the city's districts). Statuses map as README "SeeClickFix API v2" says."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from starlette.responses import Response

from app import i18n
from app.deps import PhotoLinksDep, SessionDep, SettingsDep, SpatialDep
from app.errors import NotFound
from app.http.limits import Action, RateLimited
from app.http.links import public_url
from app.http.params import refuse_control_characters
from app.seeclickfix import serialisers
from app.seeclickfix.errors import ERROR_RESPONSES, SeeClickFixRoute
from app.seeclickfix.params import DetailsDep, FieldsDep, IssueQueryDep, PointDep
from app.seeclickfix.serialisers import PREFIX, Context, json_response
from app.services import seeclickfix

router = APIRouter(
    prefix=PREFIX,
    tags=["seeclickfix"],
    route_class=SeeClickFixRoute,
    responses=ERROR_RESPONSES,
    dependencies=[Depends(refuse_control_characters), RateLimited(Action.seeclickfix)],
)


def _context(request: Request, settings: SettingsDep, photos: PhotoLinksDep) -> Context:
    return Context(base_url=public_url(request), zone=settings.zone, photos=photos)


ContextDep = Annotated[Context, Depends(_context)]


NO_ISSUE = "error.issue.not_found"


def _number(raw: str, missing: str) -> int:
    """SeeClickFix ids are whole numbers; anything else names nothing (`missing` says so)."""
    if not raw.isdigit() or len(raw) > 18:
        raise NotFound(i18n.text(missing, id=repr(raw)))
    return int(raw)


IdPath = Annotated[str, Path(max_length=32)]


@router.get("/issues", summary="Issues in an area, newest first by default")
def list_issues(
    request: Request,
    session: SessionDep,
    spatial: SpatialDep,
    ctx: ContextDep,
    query: IssueQueryDep,
    details: DetailsDep,
    fields: FieldsDep,
) -> Response:
    serialisers.check_fields(fields, details)
    found, total = seeclickfix.find_issues(session, spatial=spatial, query=query, details=details)
    organization = seeclickfix.organization(session)
    items = [
        serialisers.only(
            serialisers.issue(r, ctx, organization=organization, details=details), fields
        )
        for r in found
    ]
    paging = serialisers.pagination(
        path=request.url.path,
        params=dict(request.query_params),
        page=query.page,
        per_page=query.per_page,
        total=total,
        ctx=ctx,
    )
    return json_response(serialisers.collection("issues", items, paging))


@router.get("/issues/new", summary="Request types offered at a point (reporting, step 1)")
def new_issue(session: SessionDep, spatial: SpatialDep, ctx: ContextDep, at: PointDep) -> Response:
    return _request_types(session, spatial, ctx, at)


@router.get("/issues/{issue_id}", summary="One issue")
def get_issue(
    issue_id: IdPath, session: SessionDep, ctx: ContextDep, details: DetailsDep, fields: FieldsDep
) -> Response:
    serialisers.check_fields(fields, details)
    record = seeclickfix.get_issue(session, _number(issue_id, NO_ISSUE), details=details)
    document = serialisers.issue(
        record, ctx, organization=seeclickfix.organization(session), details=details
    )
    return json_response(serialisers.only(document, fields))


@router.get("/issues/{issue_id}/comments", summary="An issue's comments and status changes")
def list_comments(issue_id: IdPath, session: SessionDep, ctx: ContextDep) -> Response:
    record = seeclickfix.get_issue(session, _number(issue_id, NO_ISSUE), details=True)
    items = [serialisers.comment(c, record, ctx) for c in record.comments]
    return json_response({"comments": items, "errors": {}})


def _request_types(
    session: SessionDep, spatial: SpatialDep, ctx: Context, at: PointDep
) -> Response:
    organization = seeclickfix.organization(session)
    offered = seeclickfix.request_types(session, spatial=spatial, at=at)
    items = [serialisers.request_type_ref(c, organization, ctx) for c in offered]
    return json_response({"request_types": items, "errors": {}})


@router.get("/request_types", summary="Request types offered at a point (all without one)")
def list_request_types(
    session: SessionDep, spatial: SpatialDep, ctx: ContextDep, at: PointDep
) -> Response:
    return _request_types(session, spatial, ctx, at)


@router.get("/request_types/{request_type_id}", summary="A request type and its questions")
def get_request_type(request_type_id: IdPath, session: SessionDep, ctx: ContextDep) -> Response:
    number = _number(request_type_id, "seeclickfix.no_request_type")
    category = seeclickfix.get_request_type(session, number)
    organization = seeclickfix.organization(session)
    return json_response(serialisers.request_type(category, organization, ctx))


@router.get("/places", summary="The city's districts; at a point, the district there")
def list_places(
    session: SessionDep, spatial: SpatialDep, ctx: ContextDep, at: PointDep
) -> Response:
    items = [
        serialisers.place(d, ctx) for d in seeclickfix.list_places(session, spatial=spatial, at=at)
    ]
    return json_response({"places": items, "errors": {}})


@router.get("/places/{place_id}", summary="A district")
def get_place(place_id: IdPath, session: SessionDep, ctx: ContextDep) -> Response:
    district = seeclickfix.get_place(session, _number(place_id, "seeclickfix.no_place"))
    return json_response(serialisers.place(district, ctx))


@router.api_route(
    "/{path:path}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    include_in_schema=False,
)
def not_found(path: str) -> Response:
    raise NotFound(i18n.text("seeclickfix.no_resource", path=f"{PREFIX}/{path}"))
