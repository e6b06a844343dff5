"""Open311 GeoReport v2 at /open311/v2, and its service discovery at /open311/discovery.

Paths end in the format (.xml or .json); errors are the spec's own list in that format. The
common extensions are documented on each route: extensions=true, updated_after/updated_before,
lat+long+radius, bbox, page and page_size.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

from app.deps import (
    CityZoneDep,
    PhotoLinksDep,
    PhotoStoreDep,
    PhotoWorkersDep,
    SessionDep,
    SettingsDep,
    SpatialDep,
)
from app.errors import BadRequest, NotFound
from app.http.body import MEDIA_FIELDS, photo_name
from app.http.limits import Action, RateLimited, by_open311_submitter
from app.http.links import public_url
from app.http.params import refuse_control_characters
from app.models import LonLat
from app.models.base import utcnow
from app.open311 import serialisers
from app.open311.errors import ERROR_RESPONSES, Open311Route, parse_format
from app.open311.serialisers import Format
from app.routers.query import parse_bbox, parse_csv
from app.services import open311, photos
from app.services.open311 import NewRequest, Open311Status, RequestQuery
from app.storage.images import CleanPhoto

router = APIRouter(
    prefix="/open311",
    tags=["open311"],
    route_class=Open311Route,
    responses=ERROR_RESPONSES,
    dependencies=[Depends(refuse_control_characters)],
)

# The path's suffix, `.xml` or `.json`.
FormatDep = Annotated[Format, Depends(parse_format)]
# Open311 arguments are parsed here rather than by FastAPI: empty means absent, and every
# mistake must be answered in GeoReport's error format.
Param = Annotated[str | None, Query()]


async def jurisdiction(settings: SettingsDep, jurisdiction_id: Param = None) -> None:
    open311.check_jurisdiction(settings.open311_jurisdiction_id, jurisdiction_id)


Jurisdiction = Depends(jurisdiction)


def _w3c(name: str, raw: str | None) -> dt.datetime | None:
    """A W3C datetime with its offset; an empty parameter counts as absent."""
    if not raw:
        return None
    value = raw.strip()
    # A client that does not encode "+" sends "2026-01-01T00:00:00 07:00".
    if len(value) > 19 and value[-6] == " ":
        value = f"{value[:-6]}+{value[-5:]}"
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise BadRequest(
            f"{name} {raw!r} is not a W3C datetime, e.g. 2010-01-01T00:00:00Z"
        ) from None
    if moment.tzinfo is None:
        raise BadRequest(f"{name} {raw!r} needs a timezone: Z or an offset such as +07:00.")
    return moment.astimezone(dt.UTC)


def _number(name: str, raw: str | None, low: float, high: float) -> float | None:
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise BadRequest(f"{name} {raw!r} is not a number.") from None
    if not low <= value <= high:
        raise BadRequest(f"{name} must be within {low:g}..{high:g}.")
    return value


def _count(name: str, raw: str | None, default: int, high: int) -> int:
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= high:
        raise BadRequest(f"{name} must be a whole number from 1 to {high}.")
    return int(raw)


def _statuses(raw: str | None) -> tuple[Open311Status, ...]:
    values = parse_csv(raw)
    unknown = [v for v in values if v not in Open311Status.__members__]
    if unknown:
        raise BadRequest(f"status must be open and/or closed, not {', '.join(unknown)}.")
    return tuple(Open311Status(v) for v in values)


def request_query(
    settings: SettingsDep,
    service_request_id: Param = None,
    service_code: Param = None,
    start_date: Param = None,
    end_date: Param = None,
    status: Param = None,
    updated_after: Annotated[str | None, Query(description="Extension: W3C datetime.")] = None,
    updated_before: Annotated[str | None, Query(description="Extension: W3C datetime.")] = None,
    bbox: Annotated[
        str | None, Query(description="Extension: west,south,east,north (WGS84).")
    ] = None,
    lat: Annotated[str | None, Query(description="Extension, with long and radius.")] = None,
    long: Annotated[str | None, Query(description="Extension, with lat and radius.")] = None,
    radius: Annotated[str | None, Query(description="Extension: metres around lat/long.")] = None,
    page: Annotated[str | None, Query(description="Extension: 1-based page number.")] = None,
    page_size: Annotated[
        str | None,
        Query(
            description=f"Extension: requests per page, {open311.DEFAULT_PAGE_SIZE} by default, "
            f"at most {open311.MAX_PAGE_SIZE}."
        ),
    ] = None,
) -> RequestQuery:
    ids = parse_csv(service_request_id)
    if len(ids) > open311.MAX_IDS:
        raise BadRequest(f"At most {open311.MAX_IDS} service_request_id values at once.")
    latitude = _number("lat", lat, -90, 90)
    longitude = _number("long", long, -180, 180)
    distance = _number("radius", radius, 0, settings.max_radius_m)
    if not (latitude is None) == (longitude is None) == (distance is None):
        raise BadRequest("lat, long and radius (metres) go together.")
    near = LonLat(longitude, latitude) if latitude is not None and longitude is not None else None
    return RequestQuery(
        ids=ids,
        service_codes=parse_csv(service_code),
        statuses=_statuses(status),
        start_date=_w3c("start_date", start_date),
        end_date=_w3c("end_date", end_date),
        updated_after=_w3c("updated_after", updated_after),
        updated_before=_w3c("updated_before", updated_before),
        bbox=parse_bbox(bbox or None),
        near=near,
        radius_m=distance,
        page=_count("page", page, 1, 1_000_000),
        page_size=_count("page_size", page_size, open311.DEFAULT_PAGE_SIZE, open311.MAX_PAGE_SIZE),
    )


async def _extensions(extensions: Param = None) -> bool:
    """extensions=true adds extended_attributes: status detail, full history, agency."""
    return (extensions or "").lower() == "true"


Extensions = Annotated[bool, Depends(_extensions)]


@router.get("/discovery.{fmt}", summary="Service discovery")
def get_discovery(request: Request, fmt: FormatDep, settings: SettingsDep) -> Response:
    document = serialisers.discovery(
        base_url=public_url(request),
        contact=settings.open311_contact,
        key_service=settings.open311_key_service,
    )
    return serialisers.render(document, root="discovery", fmt=fmt)


@router.get("/v2/services.{fmt}", dependencies=[Jurisdiction], summary="GET Service List")
def list_services(
    fmt: FormatDep,
    session: SessionDep,
    spatial: SpatialDep,
    lat: Annotated[str | None, Query(description="Extension, with long: services here.")] = None,
    long: Annotated[str | None, Query(description="Extension, with lat.")] = None,
) -> Response:
    """With `lat` and `long`, only the services some agency covering that point handles (and
    the general one)."""
    latitude = _number("lat", lat, -90, 90)
    longitude = _number("long", long, -180, 180)
    if (latitude is None) != (longitude is None):
        raise BadRequest("lat and long go together.")
    at = LonLat(longitude, latitude) if latitude is not None and longitude is not None else None
    services = open311.list_services(session, spatial=spatial, at=at)
    document = [serialisers.service(c) for c in services]
    return serialisers.render(document, root="services", fmt=fmt)


@router.get(
    "/v2/services/{service_code}.{fmt}",
    dependencies=[Jurisdiction],
    summary="GET Service Definition",
)
def get_service_definition(
    service_code: Annotated[str, Path(max_length=64)], fmt: FormatDep, session: SessionDep
) -> Response:
    category = open311.get_service(session, service_code)
    return serialisers.render(serialisers.definition(category), root="service_definition", fmt=fmt)


async def _form(request: Request) -> FormData:
    return await request.form()


def _one(form: FormData, name: str) -> str | None:
    value = form.get(name)
    return value.strip() or None if isinstance(value, str) else None


def _answers(form: FormData) -> dict[str, str | Sequence[str]]:
    """attribute[CODE]=v, or attribute[CODE][]=v1&attribute[CODE][]=v2 for multivaluelist."""
    answers: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if key.startswith("attribute[") and isinstance(value, str):
            code = key.removeprefix("attribute[").removesuffix("[]").removesuffix("]")
            answers.setdefault(code, []).append(value)
    return {code: values[0] if len(values) == 1 else values for code, values in answers.items()}


def api_key_of(request: Request, form: FormData) -> str | None:
    """`api_key` in the form body (as the spec's example sends it) or in the query string."""
    return _one(form, "api_key") or request.query_params.get("api_key", "").strip() or None


async def media(
    request: Request,
    form: Annotated[FormData, Depends(_form)],
    settings: SettingsDep,
    workers: PhotoWorkersDep,
) -> list[CleanPhoto]:
    """The photo files of a multipart POST (`media`, or `media[]` for several), cleaned on the
    photo workers like any other report photo, before a transaction starts."""
    files = [f for name in MEDIA_FIELDS for f in form.getlist(name) if isinstance(f, UploadFile)]
    if len(files) > settings.photo_max_per_issue:
        raise BadRequest(f"At most {settings.photo_max_per_issue} media files per request.")
    uploads = [(photo_name(n, f.filename), await f.read()) for n, f in enumerate(files, 1)]
    work = functools.partial(photos.clean_uploads, uploads, photos.limits_of(settings))
    return await asyncio.get_running_loop().run_in_executor(workers, work)


def new_request(request: Request, form: Annotated[FormData, Depends(_form)]) -> NewRequest:
    return NewRequest(
        api_key=api_key_of(request, form),
        service_code=_one(form, "service_code"),
        lat=_number("lat", _one(form, "lat"), -90, 90),
        long=_number("long", _one(form, "long"), -180, 180),
        address_string=_one(form, "address_string"),
        address_id=_one(form, "address_id"),
        answers=_answers(form),
        email=_one(form, "email"),
        device_id=_one(form, "device_id"),
        account_id=_one(form, "account_id"),
        first_name=_one(form, "first_name"),
        last_name=_one(form, "last_name"),
        phone=_one(form, "phone"),
        description=_one(form, "description"),
        media_url=_one(form, "media_url"),
    )


@router.post(
    "/v2/requests.{fmt}",
    dependencies=[RateLimited(Action.report, per=by_open311_submitter)],
    summary="POST Service Request (form-encoded or multipart with media, api_key)",
    status_code=201,
)
def create_request(
    fmt: FormatDep,
    session: SessionDep,
    settings: SettingsDep,
    spatial: SpatialDep,
    form: Annotated[FormData, Depends(_form)],
    body: Annotated[NewRequest, Depends(new_request)],
    files: Annotated[list[CleanPhoto], Depends(media)],
    store: PhotoStoreDep,
) -> Response:
    """Form-encoded, or multipart/form-data with the photo in a `media` part (JPEG, PNG, WebP
    or HEIC), stored as the report's photo; `api_key` in the body or the query."""
    open311.check_jurisdiction(settings.open311_jurisdiction_id, _one(form, "jurisdiction_id"))
    issue, submission = open311.submit(
        session,
        spatial=spatial,
        request=body,
        emergency_number=settings.emergency_number,
        media=open311.Media(files, store, settings.photo_max_per_issue),
    )
    document = [
        {
            "service_request_id": issue.public_id,
            "service_notice": open311.service_notice(issue.category),
            "account_id": submission.account_id,
        }
    ]
    return serialisers.render(document, root="service_requests", fmt=fmt, status_code=201)


@router.get(
    "/v2/requests.{fmt}",
    dependencies=[Jurisdiction],
    summary=f"GET Service Requests (newest first; 90 days, {open311.DEFAULT_PAGE_SIZE} a page "
    "by default)",
)
def list_requests(
    fmt: FormatDep,
    session: SessionDep,
    settings: SettingsDep,
    spatial: SpatialDep,
    query: Annotated[RequestQuery, Depends(request_query)],
    extensions: Extensions,
    links: PhotoLinksDep,
    zone: CityZoneDep,
) -> Response:
    records = open311.find_requests(
        session, spatial=spatial, query=query, now=utcnow(), history=extensions
    )
    document = [
        serialisers.request(r, zone=zone, extensions=extensions, links=links) for r in records
    ]
    return serialisers.render(document, root="service_requests", fmt=fmt)


@router.get(
    "/v2/requests/{service_request_id}.{fmt}",
    dependencies=[Jurisdiction],
    summary="GET Service Request",
)
def get_request(
    service_request_id: Annotated[str, Path(max_length=64)],
    fmt: FormatDep,
    session: SessionDep,
    extensions: Extensions,
    links: PhotoLinksDep,
    zone: CityZoneDep,
) -> Response:
    record = open311.get_request(session, service_request_id, history=extensions)
    document = [serialisers.request(record, zone=zone, extensions=extensions, links=links)]
    return serialisers.render(document, root="service_requests", fmt=fmt)


@router.get(
    "/v2/tokens/{token}.{fmt}",
    dependencies=[Jurisdiction],
    summary="GET service_request_id from a token",
)
def get_token(
    token: Annotated[str, Path(max_length=64)], fmt: FormatDep, session: SessionDep
) -> Response:
    public_id, submission = open311.token_request(session, token)
    document = [{"service_request_id": public_id, "token": submission.token}]
    return serialisers.render(document, root="service_requests", fmt=fmt)


@router.api_route(
    "/{path:path}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    include_in_schema=False,
)
def not_found(path: str) -> Response:
    raise NotFound(f"No GeoReport resource at /open311/{path}: see /open311/discovery.xml.")
