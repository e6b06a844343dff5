"""The public pages: the map of issues with its list and filters, and the agencies'
responsiveness. Both work without JavaScript (the list and the table are the content; the map
and its clusters draw from the same JSON API)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from app.db import SessionDep
from app.deps import CursorsDep, SpatialDep
from app.http.route import UnitOfWorkRoute
from app.models import Agency, IssueStatus
from app.models.base import utcnow
from app.services import catalog, issues, metrics
from app.services.issues import IssueFilter
from app.web.context import PageDep, render
from app.web.maps import DISTRICTS_ZOOM
from app.web.paging import KeysetDep, PageNumber, numbered_pager

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute)
PERIODS = {"7": 7, "30": 30, "365": 365}
LIST_SIZE = 50
AGENCIES_PER_PAGE = 20


@router.get("/", name="map_page")
def map_page(
    page: PageDep,
    session: SessionDep,
    position: KeysetDep,
    spatial: SpatialDep,
    cursors: CursorsDep,
    category: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[IssueStatus | None, Query()] = None,
    period: Annotated[str | None, Query(max_length=8)] = None,
) -> Response:
    """Newest first, filtered by category, status and period; the list a page at a time."""
    days = PERIODS.get(period or "")
    issue_filter = IssueFilter(
        category_codes=(category,) if category else (),
        statuses=(status,) if status else (),
        created_after=utcnow() - dt.timedelta(days=days) if days else None,
    )
    rows, next_cursor = issues.list_issues(
        session,
        spatial=spatial,
        cursors=cursors,
        issue_filter=issue_filter,
        limit=LIST_SIZE,
        cursor=position.after,
    )
    return render(
        page,
        "map.html",
        rows=rows,
        pager=position.pager(page.request, next_cursor),
        categories=catalog.list_categories(session),
        statuses=list(IssueStatus),
        periods=list(PERIODS),
        chosen={
            "category": category or "",
            "status": status.value if status else "",
            "period": period if days else "",
        },
        created_after=issue_filter.created_after.isoformat() if issue_filter.created_after else "",
        tile_url=page.settings.tile_url,
        tile_attribution=page.settings.tile_attribution,
        districts_zoom=DISTRICTS_ZOOM,
    )


@dataclass(frozen=True)
class AgencyKpis:
    agency: Agency
    kpis: metrics.LoopMetrics


def _or_inf(value: float | None) -> float:
    return float("inf") if value is None else value


# Best first by each column; agencies without the figure last.
SORTS: dict[str, Callable[[AgencyKpis], Any]] = {
    "name": lambda r: r.agency.name_en.lower(),
    "acknowledge": lambda r: _or_inf(r.kpis.acknowledge.median_seconds),
    "resolve": lambda r: _or_inf(r.kpis.resolve.median_seconds),
    "on_time": lambda r: -(r.kpis.resolve.within_target or 0.0),
    "reopen": lambda r: _or_inf(r.kpis.reopen_rate),
    "satisfaction": lambda r: -(r.kpis.average_satisfaction or 0.0),
}


@router.get("/agencies", name="agencies_page")
def agencies_page(
    request: Request,
    page: PageDep,
    session: SessionDep,
    sort: Annotated[str, Query(max_length=16)] = "resolve",
    number: PageNumber = 1,
) -> Response:
    """Per agency: median time to acknowledge and to resolve, share resolved on time, reopen
    rate, satisfaction; the same figures as `GET /api/v1/stats`' loop metrics. Sorted over
    every agency, then shown a page at a time."""
    rows = [
        AgencyKpis(
            agency, metrics.loop_metrics(session, metrics.MetricsFilter(agency_id=agency.id))
        )
        for agency in catalog.list_agencies(session)
    ]
    rows.sort(key=SORTS.get(sort, SORTS["resolve"]))
    # One scale for the chart on every page.
    slowest = max((r.kpis.resolve.median_seconds or 0 for r in rows), default=0) or 1
    start = (number - 1) * AGENCIES_PER_PAGE
    return render(
        page,
        "agencies.html",
        rows=rows[start : start + AGENCIES_PER_PAGE],
        pager=numbered_pager(request, number=number, size=AGENCIES_PER_PAGE, total=len(rows)),
        sort=sort if sort in SORTS else "resolve",
        sorts=list(SORTS),
        slowest=slowest,
    )
