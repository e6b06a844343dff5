"""Read any GeoReport v2 server: its services, then its requests window by window, page by page.

Real servers differ (`../shared/data/README.md`): keys may be absent rather than null, the
address may be `address_string`, the note `status_note` and HTML, `media_url` an empty string.
Records are read leniently; what cannot be placed or dated is rejected with its reason. With
`extensions=true` a civicloop server also gives the detailed status and the whole timeline,
which are kept as they were.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from app.importers.records import Record, Rejected, Step, plain_text
from app.models import EventAction, IssueStatus, LonLat, Resolution

# GeoReport's largest start_date..end_date span.
WINDOW = dt.timedelta(days=90)
STATUSES = {"open": IssueStatus.open, "closed": IssueStatus.closed}


class SourceError(RuntimeError):
    """The server did not answer as a GeoReport v2 endpoint does."""


@dataclass(frozen=True)
class Service:
    name: str | None
    group: str | None


def w3c(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class Open311Client:
    """GET services.json and requests.json of one endpoint (`URL` ends in /v2 or similar)."""

    def __init__(self, http: httpx.Client, url: str, *, jurisdiction_id: str | None) -> None:
        self.http, self.url = http, url.rstrip("/")
        self.common = {"jurisdiction_id": jurisdiction_id} if jurisdiction_id else {}

    def _get(self, path: str, params: Mapping[str, str]) -> Any:
        address = f"{self.url}/{path}"
        try:
            answer = self.http.get(address, params={**self.common, **params})
        except httpx.HTTPError as exc:
            raise SourceError(f"{address}: {exc}") from None
        if answer.status_code != 200:
            raise SourceError(f"{address} answered {answer.status_code}: {answer.text[:300]}")
        try:
            return answer.json()
        except ValueError:
            raise SourceError(f"{address} did not answer JSON") from None

    def services(self) -> dict[str, Service]:
        found = self._get("services.json", {})
        if not isinstance(found, list):
            raise SourceError(f"{self.url}/services.json is not a list of services")
        return {
            str(s["service_code"]): Service(s.get("service_name"), s.get("group"))
            for s in found
            if isinstance(s, dict) and s.get("service_code") not in (None, "")
        }

    def pages(self, params: Mapping[str, str], *, page_size: int) -> Iterator[list[Any]]:
        """Pages until one is short; a server that ignores `page` (the same page again) ends
        the paging instead of looping."""
        seen: set[str] = set()
        page = 1
        while True:
            found = self._get(
                "requests.json",
                {**params, "extensions": "true", "page": str(page), "page_size": str(page_size)},
            )
            if not isinstance(found, list):
                raise SourceError(f"{self.url}/requests.json is not a list of requests")
            ids = {str(r.get("service_request_id")) for r in found if isinstance(r, dict)}
            if not found or ids <= seen:
                return
            seen |= ids
            yield found
            if len(found) < page_size:
                return
            page += 1

    def windows(
        self, start: dt.datetime, end: dt.datetime, *, page_size: int
    ) -> Iterator[tuple[dt.datetime, list[Any]]]:
        """Requests reported from start to end, 90 days at a time; each page comes with the
        end of its window, so a caller can note how far it has read once a window is done."""
        while start < end:
            stop = min(start + WINDOW, end)
            params = {"start_date": w3c(start), "end_date": w3c(stop)}
            for found in self.pages(params, page_size=page_size):
                yield stop, found
            yield stop, []
            start = stop

    def changed(self, since: dt.datetime, *, page_size: int) -> Iterator[list[Any]]:
        """Requests changed since then (GeoReport v2.1's updated_after), whenever reported."""
        yield from self.pages({"updated_after": w3c(since)}, page_size=page_size)


def _time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    moment = dt.datetime.fromisoformat(value.strip().replace(" ", "T", 1))
    # GeoReport requires an offset; one without is read as UTC rather than refused.
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _history(items: Any) -> tuple[Step, ...]:
    steps: list[Step] = []
    for item in items if isinstance(items, list) else []:
        at = _time(item.get("datetime"))
        action = item.get("action")
        status = item.get("status_detail")
        if at is None or action not in EventAction.__members__:
            continue
        if not isinstance(status, str) or status not in IssueStatus.__members__:
            continue
        steps.append(Step(at, EventAction(action), IssueStatus(status), _text(item.get("note"))))
    return tuple(steps)


def record(position: int, item: Any, services: Mapping[str, Service]) -> Record | Rejected:
    """One request object as a record (`position`: its place in the feed, 1 first)."""
    if not isinstance(item, dict):
        return Rejected(position, None, "not a request: not a JSON object")
    external_id = _text(item.get("service_request_id"))
    if external_id is None:
        return Rejected(position, None, "no id: service_request_id is missing")
    extended = item.get("extended_attributes")
    extended = extended if isinstance(extended, dict) else {}
    try:
        created = _time(item.get("requested_datetime"))
        if created is None:
            return Rejected(position, external_id, "no time: requested_datetime is missing")
        updated = _time(item.get("updated_datetime"))
        expected = _time(item.get("expected_datetime"))
        acknowledged = _time(extended.get("acknowledged_datetime"))
        closed = _time(extended.get("closed_datetime")) or _time(extended.get("resolved_datetime"))
    except ValueError as exc:
        return Rejected(position, external_id, f"bad time: {exc}")
    try:
        lat, lon = float(item["lat"]), float(item["long"])
    except (KeyError, TypeError, ValueError):
        return Rejected(position, external_id, "no coordinates: lat and long are needed")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return Rejected(position, external_id, f"bad coordinates: {lat}, {lon}")
    word = _text(item.get("status"))
    detail = extended.get("status_detail")
    if isinstance(detail, str) and detail in IssueStatus.__members__:
        status = IssueStatus(detail)
    elif word in STATUSES:
        status = STATUSES[word]
    else:
        return Rejected(position, external_id, f"unknown status: {word!r} (open or closed)")
    code = _text(item.get("service_code"))
    service = services.get(code or "", Service(None, None))
    # civicloop names its agency by slug in the extensions: the surest match.
    agency = extended.get("agency")
    agency_name = _text(agency.get("slug")) if isinstance(agency, dict) else None
    media = [_text(item.get("media_url"))]
    media += [
        _text(p.get("media_url")) for p in extended.get("photos") or [] if isinstance(p, dict)
    ]
    reopened = extended.get("reopen_count")
    resolution = extended.get("resolution")
    return Record(
        line=position,
        external_id=external_id,
        created_at=created,
        location=LonLat(lon, lat),
        status=status,
        source_status=word,
        category_code=code,
        category_name=_text(item.get("service_name")) or service.name,
        category_group=service.group,
        agency=agency_name or _text(item.get("agency_responsible")),
        title=plain_text(_text(extended.get("title")) or _text(item.get("title"))),
        description=plain_text(item.get("description")),
        address=_text(item.get("address")) or _text(item.get("address_string")),
        updated_at=updated,
        acknowledged_at=acknowledged,
        closed_at=closed,
        expected_at=expected,
        status_note=plain_text(item.get("status_notes") or item.get("status_note")) or None,
        history=_history(extended.get("history")),
        media_urls=tuple(dict.fromkeys(u for u in media if u)),
        address_id=_text(item.get("address_id")),
        zipcode=_text(item.get("zipcode")),
        reopen_count=reopened if isinstance(reopened, int) and reopened >= 0 else 0,
        resolution=Resolution(resolution)
        if status in (IssueStatus.resolved, IssueStatus.closed)
        and isinstance(resolution, str)
        and resolution in Resolution.__members__
        else None,
    )
