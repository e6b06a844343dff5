"""Open data: streaming exports of every public issue, and their data dictionary."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from app.deps import SessionDep, SettingsDep, SpatialDep
from app.errors import problem_responses
from app.http.limits import Action, RateLimited
from app.http.links import route_url
from app.http.route import UnitOfWorkRoute
from app.models.base import utcnow
from app.routers.query import IssueFilterDep
from app.services import opendata
from app.services.opendata import ExportFormat

router = APIRouter(prefix="/exports", tags=["open data"], route_class=UnitOfWorkRoute)


@router.get("/dictionary", summary="The export's data dictionary")
def get_dictionary(settings: SettingsDep) -> dict[str, Any]:
    """Every field of the exports: name, type, whether it may be empty, meaning; the schema
    version, the licence and what is never exported."""
    return opendata.dictionary(
        licence=settings.open_data_licence, licence_url=settings.open_data_licence_url
    )


@router.get(
    "/issues.{fmt}",
    response_class=StreamingResponse,
    dependencies=[RateLimited(Action.export)],
    responses={
        200: {"content": {f.media_type: {} for f in ExportFormat}},
        **problem_responses(400, 422),
    },
    summary="Every public issue as CSV, GeoJSON or NDJSON",
)
def export_issues(
    fmt: ExportFormat,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    spatial: SpatialDep,
    issue_filter: IssueFilterDep,
) -> StreamingResponse:
    """All matching issues, oldest first, streamed (no paging, constant memory). Takes the
    filters of `GET /issues`; the fields are described at `/exports/dictionary`."""
    query = opendata.export_query(
        session,
        spatial=spatial,
        issue_filter=issue_filter,
        now=utcnow(),
        licence=settings.open_data_licence,
        fmt=fmt,
    )
    dictionary = route_url(request, "get_dictionary")
    return StreamingResponse(
        opendata.stream(
            request.app.state.database,
            query,
            fmt,
            licence=settings.open_data_licence,
            licence_url=settings.open_data_licence_url,
        ),
        media_type=fmt.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="civicloop-issues.{fmt.value}"',
            "Link": f'<{dictionary}>; rel="describedby", '
            f'<{settings.open_data_licence_url}>; rel="license"',
        },
    )
