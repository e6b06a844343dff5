"""Query-string parsers for issue lists: each checks its parameter and says what is wrong."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Depends, Query, Request

from app.errors import ValidationFailed, answers
from app.models import Flag, IssueStatus, LonLat
from app.models.base import MAX_ID
from app.schemas.problem import FieldProblem
from app.services.issues import IssueFilter, Sort
from app.spatial import BBox


def _invalid(name: str, message: str, code: str = "invalid") -> ValidationFailed:
    return ValidationFailed(
        f"{name}: {message}",
        errors=[FieldProblem(location=f"query.{name}", message=message, code=code)],
    )


def point_param(lat: float | None, lon: float | None) -> LonLat | None:
    """A point from `lat` and `lon` query parameters, which go together."""
    if (lat is None) != (lon is None):
        raise _invalid("lat" if lat is None else "lon", "lat and lon go together")
    return LonLat(lon, lat) if lat is not None and lon is not None else None


def parse_bbox(raw: str | None) -> BBox | None:
    """west,south,east,north in WGS84 degrees."""
    if raw is None:
        return None
    parts = raw.split(",")
    try:
        west, south, east, north = (float(p) for p in parts)
    except ValueError:
        raise _invalid("bbox", "must be four numbers: west,south,east,north") from None
    if not all(-180 <= x <= 180 for x in (west, east)) or not all(
        -90 <= y <= 90 for y in (south, north)
    ):
        raise _invalid("bbox", "longitudes must be within -180..180 and latitudes within -90..90")
    if west > east or south > north:
        raise _invalid("bbox", "west must not exceed east, nor south exceed north")
    return BBox(west, south, east, north)


def as_utc(name: str, value: dt.datetime | None) -> dt.datetime | None:
    # A time without an offset is taken as UTC, as documented.
    if value is None:
        return None
    try:
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    except OverflowError:
        raise _invalid(name, "is outside the years 1 to 9999 in UTC") from None


def parse_csv(raw: str | None) -> tuple[str, ...]:
    if not raw:
        return ()
    return tuple(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))


@answers(422)
def issue_filter(
    request: Request,
    bbox: Annotated[
        str | None,
        Query(
            description="west,south,east,north in WGS84 degrees.",
            examples=["100.52,13.72,100.55,13.75"],
        ),
    ] = None,
    lat: Annotated[
        float | None, Query(ge=-90, le=90, description="Centre latitude for radius or nearest.")
    ] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180, description="Centre longitude.")] = None,
    radius: Annotated[float | None, Query(gt=0, description="Metres around lat/lon.")] = None,
    status: Annotated[
        str | None, Query(description="Comma-separated statuses.", examples=["open,acknowledged"])
    ] = None,
    category: Annotated[str | None, Query(description="Comma-separated category codes.")] = None,
    agency: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Id of the handling agency.")
    ] = None,
    created_after: Annotated[
        dt.datetime | None, Query(description="ISO 8601, inclusive; no offset means UTC.")
    ] = None,
    created_before: Annotated[dt.datetime | None, Query(description="ISO 8601, exclusive.")] = None,
    updated_after: Annotated[dt.datetime | None, Query()] = None,
    updated_before: Annotated[dt.datetime | None, Query()] = None,
    q: Annotated[
        str | None, Query(min_length=1, max_length=200, description="Text in title or description.")
    ] = None,
    district: Annotated[
        str | None, Query(max_length=2000, description="Comma-separated district codes.")
    ] = None,
    flag: Annotated[
        str | None,
        Query(
            max_length=2000,
            description=f"Comma-separated flags; issues carrying any of them ({', '.join(Flag)}).",
        ),
    ] = None,
    sort: Annotated[
        Sort | None,
        Query(
            description="newest (lists' default); nearest needs lat, lon and radius; risk (work "
            "queues' default): late first, then the soonest due date of the current step."
        ),
    ] = None,
) -> IssueFilter:
    max_radius = request.app.state.settings.max_radius_m
    near = point_param(lat, lon)
    if radius is not None and lat is None:
        raise _invalid("radius", "radius needs lat and lon")
    if radius is not None and radius > max_radius:
        raise _invalid("radius", f"must be at most {max_radius:g} metres", "too_large")
    if sort == Sort.nearest and radius is None:
        raise _invalid("sort", "sort=nearest needs lat, lon and radius")
    statuses: list[IssueStatus] = []
    for value in parse_csv(status):
        if value not in IssueStatus.__members__:
            raise _invalid("status", f"unknown status {value!r}; use {', '.join(IssueStatus)}")
        statuses.append(IssueStatus(value))
    flags: list[Flag] = []
    for value in parse_csv(flag):
        if value not in Flag.__members__:
            raise _invalid("flag", f"unknown flag {value!r}; use {', '.join(Flag)}")
        flags.append(Flag(value))
    created_after = as_utc("created_after", created_after)
    created_before = as_utc("created_before", created_before)
    updated_after = as_utc("updated_after", updated_after)
    updated_before = as_utc("updated_before", updated_before)
    for prefix, after, before in (
        ("created", created_after, created_before),
        ("updated", updated_after, updated_before),
    ):
        if after is not None and before is not None and after >= before:
            raise _invalid(f"{prefix}_before", f"must be later than {prefix}_after")
    return IssueFilter(
        bbox=parse_bbox(bbox),
        near=near,
        radius_m=radius,
        statuses=tuple(statuses),
        category_codes=parse_csv(category),
        district_codes=parse_csv(district),
        flags=tuple(flags),
        agency_id=agency,
        text=q,
        sort=sort,
        created_after=created_after,
        created_before=created_before,
        updated_after=updated_after,
        updated_before=updated_before,
    )


IssueFilterDep = Annotated[IssueFilter, Depends(issue_filter)]


@answers(400, 422)  # 400 for a cursor that is tampered with or from another query
def page_params(
    request: Request,
    limit: Annotated[
        int | None, Query(ge=1, description="Page size (default 50, at most 200).")
    ] = None,
    cursor: Annotated[
        str | None, Query(max_length=2000, description="next_cursor of the previous page.")
    ] = None,
) -> tuple[int, str | None]:
    settings = request.app.state.settings
    if limit is not None and limit > settings.page_size_max:
        raise _invalid("limit", f"must be at most {settings.page_size_max}", "too_large")
    return limit or settings.page_size_default, cursor


PageParams = Annotated[tuple[int, str | None], Depends(page_params)]
