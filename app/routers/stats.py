"""Public statistics for dashboards and the public: cached briefly, with ETags.

Each answer is computed at most once per CIVICLOOP_STATS_CACHE_SECONDS per process, sent with
`Cache-Control: public, max-age=...` and an ETag; `If-None-Match` answers 304.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from app import i18n
from app.deps import CityZoneDep, SessionDep, SpatialDep
from app.errors import problem_responses
from app.http.route import UnitOfWorkRoute
from app.routers.query import IssueFilterDep
from app.services import emergencies, stats
from app.services.cache import TTLCache
from app.services.stats import Dimension, Event, Period, Scope, Stage

router = APIRouter(prefix="/stats", tags=["statistics"], route_class=UnitOfWorkRoute)
RESPONSES: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified (If-None-Match)"},
    **problem_responses(400, 422),
}


def scope(session: SessionDep, spatial: SpatialDep, issue_filter: IssueFilterDep) -> Scope:
    found = Scope(session=session, spatial=spatial, issue_filter=issue_filter)
    found.prepare()
    return found


ScopeDep = Annotated[Scope, Depends(scope)]


def cached(request: Request, compute: Callable[[], Any]) -> Response:
    """The JSON answer from the statistics cache (also the KPIs'), with its ETag; 304 on a match."""
    return cached_body(request, lambda: orjson.dumps(compute()), "application/json")


def cached_body(
    request: Request, compute: Callable[[], bytes], media_type: str, cache_name: str = "stats"
) -> Response:
    """A public read from one of the app's answer caches (`app.state.<cache_name>_cache`), with
    its ETag and max-age; 304 when If-None-Match names it."""
    cache: TTLCache = getattr(request.app.state, f"{cache_name}_cache")
    # Names in the answer are worded in its language: one entry (and ETag) per language, and
    # per representation.
    lang = i18n.current()
    key = (
        f"{lang.value}:{media_type}:{request.url.path}?{sorted(request.query_params.multi_items())}"
    )
    entry = cache.get_or_compute(key, compute)
    headers = {"ETag": entry.etag, "Cache-Control": f"public, max-age={int(cache.ttl)}"}
    if request.headers.get("if-none-match", "").strip() == entry.etag:
        return Response(status_code=304, headers=headers)
    return Response(entry.body, media_type=media_type, headers=headers)


@router.get("/counts/{dimension}", responses=RESPONSES, summary="Issues per status, category, …")
def count_issues(dimension: Dimension, request: Request, scope: ScopeDep) -> Response:
    """How many issues per status, category, handling agency, district or time-frame state
    (on_track, at_risk, late, met, missed, as of now), most first, for the issues the list
    filters select (all by default)."""
    return cached(request, lambda: {"by": dimension, "counts": stats.counts(scope, dimension)})


@router.get("/series/{event}", responses=RESPONSES, summary="Reported or resolved per period")
def issue_series(
    event: Event,
    request: Request,
    scope: ScopeDep,
    zone: CityZoneDep,
    period: Annotated[Period, Query(description="day, week (from Monday) or month")] = Period.day,
) -> Response:
    """Issues reported (or resolved) per local day, week or month (the city's time zone);
    periods with none are left out."""
    return cached(
        request,
        lambda: {
            "event": event,
            "period": period,
            "timezone": zone.key,
            "series": stats.series(scope, event, period, zone),
        },
    )


@router.get("/patterns", responses=RESPONSES, summary="Busiest hours and weekdays")
def reporting_patterns(request: Request, scope: ScopeDep, zone: CityZoneDep) -> Response:
    """Reports per local hour of day and per weekday (1 = Monday), with the busiest of each."""
    return cached(request, lambda: stats.patterns(scope, zone))


@router.get("/timings/{stage}", responses=RESPONSES, summary="Time to acknowledge or resolve")
def issue_timings(stage: Stage, request: Request, scope: ScopeDep) -> Response:
    """Median and 90th-percentile hours from report to acknowledgement (or to resolution), exact
    to the minute, and the share within the categories' service-level targets."""
    return cached(request, lambda: {"stage": stage, **stats.timings(scope, stage)})


@router.get("/emergencies", responses=RESPONSES, summary="Emergencies stopped, by category")
def emergency_counts(request: Request, session: SessionDep) -> Response:
    """Reports stopped as emergencies (and pointed to the emergency number) since counting
    began: the total, per category and per channel (api, open311, web). Nothing personal is
    kept of them."""
    return cached(request, lambda: emergencies.counts(session))
