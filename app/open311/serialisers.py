"""GeoReport v2 documents in JSON and XML.

One structure per document, written two ways: XML with the spec's root and item elements, and
JSON by the spec's "Spark convention" (the root disappears, repeated elements become an array).
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from starlette.responses import Response

from app import i18n
from app.models import Category, IssueEvent, Photo
from app.services import lifecycle, open311, photos
from app.services.open311 import RequestRecord
from app.services.photos import PhotoLinks

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When this API's GeoReport surface last changed (discovery's `changeset`).
CHANGESET = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)
XML_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>\n'


class Format(StrEnum):
    json = "json"
    xml = "xml"

    @property
    def media_type(self) -> str:
        return (
            "application/json; charset=utf-8" if self == Format.json else "text/xml; charset=utf-8"
        )


# XML element of the items of each repeated element, by the repeated element's name.
ITEM_ELEMENTS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "history": "event",
    "photos": "photo",
}

Document = Mapping[str, Any] | Sequence[Mapping[str, Any]]


def w3c(moment: dt.datetime | None, zone: ZoneInfo) -> str | None:
    """W3C datetime with its offset, in the jurisdiction's time zone."""
    return None if moment is None else moment.astimezone(zone).isoformat(timespec="seconds")


# Characters XML 1.0 cannot carry at all (most C0 controls, lone surrogates, U+FFFE/U+FFFF).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else _NOT_XML.sub("\ufffd", str(value))


def _append(parent: ET.Element, tag: str, value: Any) -> None:
    element = ET.SubElement(parent, tag)
    _fill(element, value)


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, Mapping):
        for tag, child in value.items():
            _append(element, tag, child)
    elif isinstance(value, list):
        for item in value:
            _append(element, ITEM_ELEMENTS[element.tag], item)
    else:
        element.text = _text(value)


def render(document: Document, *, root: str, fmt: Format, status_code: int = 200) -> Response:
    if fmt == Format.json:
        body = orjson.dumps(document)
    else:
        element = ET.Element(root)
        _fill(element, document)
        body = XML_DECLARATION + ET.tostring(element, encoding="utf-8", xml_declaration=False)
    return Response(body, status_code=status_code, media_type=fmt.media_type)


def errors(problems: Sequence[tuple[int, str]], *, fmt: Format, status_code: int) -> Response:
    document = [{"code": code, "description": description} for code, description in problems]
    return render(document, root="errors", fmt=fmt, status_code=status_code)


def service(category: Category) -> dict[str, Any]:
    return {
        "service_code": category.code,
        # English unless the reader accepts another language the city named it in.
        "service_name": i18n.name_in(category.names, category.name_en),
        "description": category.description_en,
        "metadata": bool(category.attributes),
        "type": "realtime",
        "keywords": ", ".join(category.keywords),
        "group": category.group,
    }


def definition(category: Category) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "attributes": [
            {
                "variable": a.variable,
                "code": a.code,
                "datatype": a.datatype.value,
                "required": a.required,
                "datatype_description": a.datatype_description or None,
                "order": a.order,
                "description": a.description,
                "values": [{"key": v["key"], "name": v["name"]} for v in a.values],
            }
            for a in category.attributes
        ],
    }


def _description(record: RequestRecord) -> str:
    """The issue's title and text as one description (titles of Open311 reports are its first
    line), within the spec's 4,000 characters."""
    issue = record.issue
    text = issue.description.strip()
    combined = text if text.startswith(issue.title.rstrip("…")) else f"{issue.title}\n\n{text}"
    combined = combined.strip()
    limit = open311.MAX_DESCRIPTION
    return combined if len(combined) <= limit else combined[: limit - 1] + "…"


def _event(event: IssueEvent, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "datetime": w3c(event.created_at, zone),
        "action": event.action.value,
        "status": open311.public_status(event.to_status).value,
        "status_detail": event.to_status.value,
        "agency": event.to_agency.name_en if event.to_agency else None,
        "note": event.note,
        "message": lifecycle.event_message(event),
    }


def _agency_responsible(record: RequestRecord) -> str | None:
    """The handling agency; for an imported issue no agency here handles, the source's name."""
    if record.issue.agency is not None:
        agency = record.issue.agency
        return i18n.name_in(agency.names, agency.name_en)
    return record.origin.agency_name if record.origin else None


def _photo(photo: Photo, links: PhotoLinks, zone: ZoneInfo) -> dict[str, Any]:
    """A photo as Chicago's and Boston's extended attributes list them."""
    shown = photos.photo_read(photo, internal=False, links=links)
    return {
        "media_url": shown.urls.display,
        "kind": photo.kind.value,
        "width": shown.width,
        "height": shown.height,
        "content_type": shown.content_type,
        "created_at": w3c(photo.created_at, zone),
    }


def _media_url(record: RequestRecord, links: PhotoLinks) -> str | None:
    """A photo stored here wins over a link the client sent, as in GeoReport v2.1's `media`."""
    photo = record.first_photo
    if photo is not None:
        return photos.photo_read(photo, internal=False, links=links).urls.display
    if record.submission and record.submission.media_url:
        return record.submission.media_url
    kept = record.origin.media_urls if record.origin else []
    return kept[0] if kept else None


def request(
    record: RequestRecord, *, zone: ZoneInfo, extensions: bool, links: PhotoLinks
) -> dict[str, Any]:
    issue, submission, origin = record.issue, record.submission, record.origin
    fields: dict[str, Any] = {
        "service_request_id": issue.public_id,
        "status": open311.public_status(issue.status).value,
        "status_notes": record.status_notes,
        "service_name": i18n.name_in(issue.category.names, issue.category.name_en),
        "service_code": issue.category.code,
        "description": _description(record),
        "agency_responsible": _agency_responsible(record),
        "service_notice": open311.service_notice(issue.category),
        "requested_datetime": w3c(issue.created_at, zone),
        # The last change; for a closed request that is when it was closed.
        "updated_datetime": w3c(issue.updated_at, zone),
        "expected_datetime": w3c(issue.resolve_due_at, zone),
        "address": record.address,
        "address_id": (submission.address_id if submission else None)
        or (origin.address_id if origin else None),
        "zipcode": origin.zipcode if origin else None,
        "lat": issue.location.lat,
        "long": issue.location.lon,
        "media_url": _media_url(record, links),
    }
    if extensions:
        fields["extended_attributes"] = {
            "title": issue.title,
            "status_detail": issue.status.value,
            "resolution": issue.resolution.value if issue.resolution else None,
            "agency": {"slug": issue.agency.slug, "name": issue.agency.name_en}
            if issue.agency
            else None,
            "acknowledge_due_datetime": w3c(issue.acknowledge_due_at, zone),
            "acknowledged_datetime": w3c(issue.acknowledged_at, zone),
            "resolved_datetime": w3c(issue.resolved_at, zone),
            "closed_datetime": w3c(issue.closed_at, zone),
            "reopen_count": issue.reopen_count,
            # The district the point was placed in (its code), null outside every district.
            "district": issue.district.code if issue.district else None,
            "token": submission.token if submission else None,
            "history": [_event(e, zone) for e in record.events],
            "photos": [_photo(p, links, zone) for p in record.photos],
        }
    return fields


def discovery(*, base_url: str, contact: str, key_service: str) -> dict[str, Any]:
    changeset = w3c(CHANGESET, ZoneInfo("UTC"))
    return {
        "changeset": changeset,
        "contact": contact,
        "key_service": key_service,
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": f"{base_url}/open311/v2",
                "changeset": changeset,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
