"""SeeClickFix's query parameters, read as its clients send them: empty means absent, names
this surface does not know are ignored (as SeeClickFix does), and every mistake is a 422
naming the parameter."""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Query

from app import i18n
from app.deps import SettingsDep
from app.models import LonLat
from app.routers.query import parse_csv
from app.services import seeclickfix
from app.services.seeclickfix import IssueQuery, Sort, Status, invalid
from app.spatial import BBox

Param = Annotated[str | None, Query()]
MAX_ZOOM = 22
MAX_SEARCH = 200
MAX_LIST = 100


def number(name: str, raw: str | None, low: float, high: float) -> float | None:
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise invalid(name, i18n.text("seeclickfix.not_a_number", value=raw)) from None
    if not low <= value <= high:
        raise invalid(name, i18n.text("seeclickfix.out_of_range", low=f"{low:g}", high=f"{high:g}"))
    return value


def whole(name: str, raw: str | None, default: int, high: int) -> int:
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= high:
        raise invalid(name, i18n.text("seeclickfix.whole_number", high=high))
    return int(raw)


def point(lat: str | None, lng: str | None) -> LonLat | None:
    latitude = number("lat", lat, -90, 90)
    longitude = number("lng", lng, -180, 180)
    if (latitude is None) != (longitude is None):
        raise invalid("lat" if latitude is None else "lng", i18n.text("seeclickfix.lat_lng"))
    return None if latitude is None or longitude is None else LonLat(longitude, latitude)


def point_query(lat: Param = None, lng: Param = None) -> LonLat | None:
    """lat and lng, WGS84 degrees."""
    return point(lat, lng)


PointDep = Annotated[LonLat | None, Depends(point_query)]


def _moment(name: str, raw: str | None, zone: ZoneInfo) -> dt.datetime | None:
    """ISO 8601; a date or time without an offset is the city's local time."""
    if not raw:
        return None
    value = raw.strip()
    # A client that does not encode "+" sends "2026-01-01T00:00:00 07:00".
    if len(value) > 19 and value[-6] == " ":
        value = f"{value[:-6]}+{value[-5:]}"
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise invalid(name, i18n.text("seeclickfix.not_a_time", value=raw)) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError:
        raise invalid(name, i18n.text("seeclickfix.not_a_time", value=raw)) from None


def _tile(at: LonLat, zoom: int) -> BBox:
    """The area a map shows around a point at a zoom level: one 256-pixel Web Mercator tile's
    span centred on it (360 / 2**zoom degrees of longitude; latitude shrunk by cos(lat))."""
    half_lng = 180 / 2**zoom
    half_lat = half_lng * math.cos(math.radians(at.lat))
    return BBox(
        max(at.lon - half_lng, -180),
        max(at.lat - half_lat, -90),
        min(at.lon + half_lng, 180),
        min(at.lat + half_lat, 90),
    )


def _degrees(name: str, raw: str) -> float:
    limit = 90 if name.endswith("lat") else 180
    value = number(name, raw, -limit, limit)
    assert value is not None  # raw is not empty
    return value


def _bbox(raw: dict[str, str | None]) -> BBox | None:
    given = {name: value for name, value in raw.items() if value}
    if not given:
        return None
    missing = [name for name in raw if name not in given]
    if missing:
        raise invalid(missing[0], i18n.text("seeclickfix.bbox_together"))
    south, west, north, east = (
        _degrees(name, given[name]) for name in ("min_lat", "min_lng", "max_lat", "max_lng")
    )
    if south > north:
        raise invalid("max_lat", i18n.text("seeclickfix.bbox_order", low="min_lat", high="max_lat"))
    if west > east:
        raise invalid("max_lng", i18n.text("seeclickfix.bbox_order", low="min_lng", high="max_lng"))
    return BBox(west, south, east, north)


def _statuses(raw: str | None) -> tuple[Status, ...]:
    values = parse_csv(raw.lower() if raw else raw)
    if not values:
        return seeclickfix.DEFAULT_STATUSES
    unknown = [v for v in values if v not in Status.__members__]
    if unknown:
        names = ", ".join(Status.__members__)
        raise invalid(
            "status", i18n.text("seeclickfix.unknown_status", value=unknown[0], names=names)
        )
    return tuple(Status[v] for v in values)


def _ids(name: str, raw: str | None) -> tuple[int, ...]:
    values = parse_csv(raw)
    if len(values) > MAX_LIST or not all(v.isdigit() and len(v) <= 18 for v in values):
        raise invalid(name, i18n.text("seeclickfix.id_list", high=MAX_LIST))
    return tuple(int(v) for v in values)


# Parameters SeeClickFix has that this surface cannot honour: answering as if they were not sent
# would hand back other issues than asked for.
UNSUPPORTED = ("watcher_token", "address", "assigned_to_me", "assigned", "unassigned")


def issue_query(
    settings: SettingsDep,
    min_lat: Param = None,
    min_lng: Param = None,
    max_lat: Param = None,
    max_lng: Param = None,
    lat: Annotated[str | None, Query(description="With lng: a point (for sort=distance).")] = None,
    lng: Param = None,
    zoom: Annotated[
        str | None, Query(description="With lat and lng: the area a map tile shows there.")
    ] = None,
    place_url: Annotated[str | None, Query(description="A place's url_name (a district).")] = None,
    status: Annotated[
        str | None, Query(description="open, acknowledged, closed, archived (comma-separated).")
    ] = None,
    request_types: Annotated[str | None, Query(description="Request type ids.")] = None,
    search: Param = None,
    after: Annotated[str | None, Query(description="created_at at or after (ISO 8601).")] = None,
    before: Annotated[str | None, Query(description="created_at before (ISO 8601).")] = None,
    updated_at_after: Param = None,
    updated_at_before: Param = None,
    sort: Annotated[
        str | None, Query(description="created_at, updated_at, rating, distance.")
    ] = None,
    sort_direction: Annotated[str | None, Query(description="ASC or DESC (default).")] = None,
    page: Param = None,
    per_page: Annotated[str | None, Query(description="At most 100; 20 with details.")] = None,
    details: Annotated[str | None, Query(description="true: comments, votes, answers.")] = None,
    watcher_token: Param = None,
    address: Param = None,
    assigned_to_me: Param = None,
    assigned: Param = None,
    unassigned: Param = None,
) -> IssueQuery:
    for name, value in zip(
        UNSUPPORTED, (watcher_token, address, assigned_to_me, assigned, unassigned), strict=True
    ):
        if value:
            raise invalid(name, i18n.text("seeclickfix.unsupported"))
    at = point(lat, lng)
    bbox = _bbox({"min_lat": min_lat, "min_lng": min_lng, "max_lat": max_lat, "max_lng": max_lng})
    if zoom:
        if at is None:
            raise invalid("zoom", i18n.text("seeclickfix.zoom_needs_point"))
        if bbox is not None:
            raise invalid("zoom", i18n.text("seeclickfix.one_area"))
        bbox = _tile(at, whole("zoom", zoom, 0, MAX_ZOOM))
    if search and len(search) > MAX_SEARCH:
        raise invalid("search", i18n.text("seeclickfix.too_long", high=MAX_SEARCH))
    if sort and sort not in Sort.__members__:
        names = ", ".join(Sort.__members__)
        raise invalid("sort", i18n.text("seeclickfix.unknown_sort", value=sort, names=names))
    direction = (sort_direction or "DESC").upper()
    if direction not in ("ASC", "DESC"):
        raise invalid("sort_direction", i18n.text("seeclickfix.sort_direction"))
    with_details = is_true(details)
    high = seeclickfix.MAX_PER_PAGE_DETAILS if with_details else seeclickfix.MAX_PER_PAGE
    zone = settings.zone
    created_after, created_before = _moment("after", after, zone), _moment("before", before, zone)
    if created_after and created_before and created_after >= created_before:
        raise invalid("before", i18n.text("seeclickfix.time_order", low="after"))
    return IssueQuery(
        bbox=bbox,
        point=at,
        statuses=_statuses(status),
        request_type_ids=_ids("request_types", request_types),
        district_codes=parse_csv(place_url),
        search=search.strip() or None if search else None,
        after=created_after,
        before=created_before,
        updated_after=_moment("updated_at_after", updated_at_after, zone),
        updated_before=_moment("updated_at_before", updated_at_before, zone),
        sort=Sort(sort) if sort else Sort.created_at,
        descending=direction == "DESC",
        page=whole("page", page, 1, 1_000_000),
        per_page=whole("per_page", per_page, seeclickfix.DEFAULT_PER_PAGE, high),
    )


IssueQueryDep = Annotated[IssueQuery, Depends(issue_query)]


def is_true(raw: str | None) -> bool:
    return (raw or "").lower() in ("true", "1")


def details_query(details: Param = None) -> bool:
    """details=true: comments, votes and the answers to the request type's questions."""
    return is_true(details)


DetailsDep = Annotated[bool, Depends(details_query)]


def fields_query(
    fields: Annotated[
        str | None,
        Query(alias="fields[issue]", description="Comma-separated issue fields to return."),
    ] = None,
) -> tuple[str, ...]:
    return parse_csv(fields)


FieldsDep = Annotated[tuple[str, ...], Depends(fields_query)]
