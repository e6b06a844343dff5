"""SeeClickFix API v2 documents: issues, comments, request types and places, with the field
names and types of its developer documentation. Blank fields are present as null, never left
out; times are ISO 8601 with the city's offset; links are built from the public base URL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import orjson
from starlette.responses import Response

from app import i18n
from app.models import AttributeDatatype, Category, District, Issue, Photo, PhotoVariant
from app.open311.serialisers import w3c
from app.services import seeclickfix
from app.services.photos import PhotoLinks
from app.services.seeclickfix import CommentRecord, IssueRecord, invalid

PREFIX = "/seeclickfix/api/v2"
# SeeClickFix's roles: staff speak as "Verified Official", everyone else as a registered user.
OFFICIAL = "Verified Official"
REGISTERED = "Registered User"
STAFF_ROLES = {"agent", "manager", "admin"}
QUESTION_TYPES = {
    AttributeDatatype.string: "text",
    AttributeDatatype.text: "textarea",
    AttributeDatatype.number: "number",
    AttributeDatatype.datetime: "datetime",
    AttributeDatatype.singlevaluelist: "select",
    AttributeDatatype.multivaluelist: "multivaluelist",
}


@dataclass(frozen=True)
class Context:
    """What every document needs from the request: where links point, the city's zone."""

    base_url: str  # the public base URL, no trailing slash
    zone: ZoneInfo
    photos: PhotoLinks

    @property
    def api(self) -> str:
        return self.base_url + PREFIX


def _name(th: str, en: str) -> str:
    return i18n.pick(th, en)


def _avatar() -> dict[str, None]:
    return {"full": None, "square_100x100": None}


def _person(role: str | None, agency_name: str | None) -> dict[str, Any]:
    """A public person: staff by their agency's name, residents unnamed (no personal data)."""
    official = role in STAFF_ROLES
    return {
        "id": None,
        "name": agency_name
        if official and agency_name
        else i18n.t("seeclickfix.resident", i18n.current()),
        "role": OFFICIAL if official else REGISTERED,
        "witty_title": None,
        "civic_points": None,
        "avatar": _avatar(),
    }


def _media(photo: Photo | None, ctx: Context) -> dict[str, Any]:
    files = {f.variant: f for f in photo.files} if photo is not None else {}
    display = files.get(PhotoVariant.display)
    thumbnail = files.get(PhotoVariant.thumbnail)
    full = ctx.photos.url(photo, display) if photo is not None and display else None
    square = ctx.photos.url(photo, thumbnail) if photo is not None and thumbnail else None
    return {
        "video_url": None,
        "image_full": full,
        "image_square_100x100": square,
        "representative_image_url": square or full,
    }


def _point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def request_type_ref(category: Category, organization: str | None, ctx: Context) -> dict[str, Any]:
    return {
        "id": category.id,
        "title": _name(category.name_th, category.name_en),
        "organization": organization,
        "url": f"{ctx.api}/request_types/{category.id}",
        "related_issues_url": f"{ctx.api}/issues?request_types={category.id}",
    }


def issue(
    record: IssueRecord, ctx: Context, *, organization: str | None, details: bool
) -> dict[str, Any]:
    found: Issue = record.issue
    number = seeclickfix.issue_number(found.public_id)
    url = f"{ctx.api}/issues/{number}"
    document: dict[str, Any] = {
        "id": number,
        "status": seeclickfix.public_status(found.status).value,
        "summary": found.title,
        "description": found.description or None,
        "rating": str(len(record.votes)),
        "lat": found.location.lat,
        "lng": found.location.lon,
        "point": _point(found.location.lon, found.location.lat),
        "address": found.address,
        "created_at": w3c(found.created_at, ctx.zone),
        "acknowledged_at": w3c(found.acknowledged_at, ctx.zone),
        "closed_at": w3c(found.resolved_at, ctx.zone),
        "reopened_at": w3c(found.reopened_at, ctx.zone),
        "updated_at": w3c(found.updated_at, ctx.zone),
        "shortened_url": None,
        "url": url,
        "comments_url": f"{url}/comments",
        "flag_url": None,
        "html_url": f"{ctx.base_url}/issues/{found.public_id}",
        # A read-only surface: no transition is offered here.
        "transitions": {},
        "reporter": _person(None, None),
        "media": _media(record.photo, ctx),
        "request_type": request_type_ref(found.category, organization, ctx),
    }
    if details:
        document |= {
            "assignee": None,
            "comments": [comment(c, record, ctx) for c in record.comments],
            "comment_count": record.comment_count,
            "current_user_relationship": {
                "assignee": False,
                "following": False,
                "reporter": False,
                "voted": False,
            },
            "questions": [{"question": q, "answer": a} for q, a in record.questions],
            "integrations": [
                {
                    "remote_id": record.origin.external_id,
                    "title": record.origin.source,
                    "status": record.origin.source_status,
                }
            ]
            if record.origin is not None
            else [],
            "vote_count": len(record.votes),
            "votes": [{"created_at": w3c(v, ctx.zone)} for v in record.votes],
        }
    return document


def issue_fields(details: bool) -> frozenset[str]:
    """The names fields[issue] may choose among."""
    base = {
        "id", "status", "summary", "description", "rating", "lat", "lng", "point", "address",
        "created_at", "acknowledged_at", "closed_at", "reopened_at", "updated_at",
        "shortened_url", "url", "comments_url", "flag_url", "html_url", "transitions",
        "reporter", "media", "request_type",
    }  # fmt: skip
    extra = {
        "assignee", "comments", "comment_count", "current_user_relationship", "questions",
        "integrations", "vote_count", "votes",
    }  # fmt: skip
    return frozenset(base | (extra if details else set()))


def check_fields(fields: Sequence[str], details: bool) -> None:
    known = issue_fields(details)
    unknown = [f for f in fields if f not in known]
    if unknown:
        raise invalid(
            "fields[issue]",
            i18n.text(
                "seeclickfix.unknown_field", value=unknown[0], names=", ".join(sorted(known))
            ),
        )


def only(document: dict[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    """fields[issue]: just the fields asked for, in the document's order."""
    return {k: v for k, v in document.items() if k in fields} if fields else document


def comment(record: CommentRecord, issue_record: IssueRecord, ctx: Context) -> dict[str, Any]:
    if record.comment is not None:
        agency = record.comment.author_agency
        role = record.comment.author_role
    else:
        agency = record.event.actor_agency
        role = record.event.actor_role
    agency_name = _name(agency.name_th, agency.name_en) if agency is not None else None
    return {
        "comment": record.text,
        "commenter": _person(role, agency_name),
        "media": {"video_url": None, "image_full": None, "image_square_100x100": None},
        "flag_url": None,
        "created_at": w3c(record.created_at, ctx.zone),
        "updated_at": w3c(record.created_at, ctx.zone),
        "moderated": False,
        "issue": {"status": record.status.value, "rating": str(len(issue_record.votes))},
    }


def question(attribute: Any) -> dict[str, Any]:
    return {
        "primary_key": attribute.code,
        "question": attribute.description,
        "question_type": QUESTION_TYPES[attribute.datatype],
        "answer_kept_private": False,
        "response_required": attribute.required,
        "select_values": [{"key": v["key"], "name": v["name"]} for v in attribute.values],
    }


def request_type(category: Category, organization: str | None, ctx: Context) -> dict[str, Any]:
    return {
        **request_type_ref(category, organization, ctx),
        "questions": [question(a) for a in category.attributes if a.variable],
    }


def place(district: District, ctx: Context) -> dict[str, Any]:
    centre = district.area.representative_point()
    return {
        "id": district.id,
        "name": _name(district.name_th, district.name_en),
        "url_name": district.code,
        "county": None,
        "state": None,
        "center": _point(centre.x, centre.y),
        "place_type": "District",
        "avatar": _avatar(),
        "url": f"{ctx.api}/places/{district.id}",
        "html_url": None,
        "html_report_url": f"{ctx.base_url}/report",
    }


def pagination(
    *, path: str, params: Mapping[str, str], page: int, per_page: int, total: int, ctx: Context
) -> dict[str, Any]:
    """SeeClickFix's metadata.pagination; the page links repeat the query with another page."""
    pages = seeclickfix.pages(total, per_page)

    def link(number: int | None) -> str | None:
        if number is None:
            return None
        return f"{ctx.base_url}{path}?{urlencode({**params, 'page': str(number)})}"

    next_page = page + 1 if page < pages else None
    previous_page = page - 1 if page > 1 else None
    return {
        "entries": total,
        "page": page,
        "per_page": per_page,
        "pages": pages,
        "next_page": next_page,
        "next_page_url": link(next_page),
        "previous_page": previous_page,
        "previous_page_url": link(previous_page),
    }


def collection(
    name: str, items: list[dict[str, Any]], pagination: dict[str, Any]
) -> dict[str, Any]:
    return {name: items, "metadata": {"pagination": pagination}, "errors": {}}


def json_response(document: Mapping[str, Any]) -> Response:
    return Response(orjson.dumps(document), media_type="application/json; charset=utf-8")
