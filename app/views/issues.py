"""The public issue lists (JSON and GeoJSON): one query of the columns they show, written
straight to JSON.

The wire shapes are `schemas.issue.IssuePage` and `IssueFeatureCollection` (the OpenAPI
document names them); here each row becomes their JSON without an ORM object or a Pydantic
model per row, in the same field order and formats (UTC times with `Z`), so a page reads back
through those schemas unchanged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import orjson
from sqlalchemy import ColumnElement, null, select
from sqlalchemy.orm import QueryableAttribute, Session

from app import i18n
from app.models import Agency, Category, District, Issue, IssueStatus, Priority, Resolution
from app.services import issues
from app.services.issues import IssueFilter
from app.services.pagination import CursorCodec
from app.spatial import SpatialBackend


class ListedIssue(NamedTuple):
    """One row of a public list: the issue's columns and those of what it names."""

    id: int
    public_id: str
    title: str
    description: str
    address: str | None
    attributes: dict[str, Any]
    status: IssueStatus
    resolution: Resolution | None
    priority: Priority
    created_at: dt.datetime
    updated_at: dt.datetime
    acknowledged_at: dt.datetime | None
    started_at: dt.datetime | None
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None
    reopened_at: dt.datetime | None
    reopen_count: int
    acknowledge_due_at: dt.datetime
    resolve_due_at: dt.datetime
    version: int
    distance_m: float | None
    longitude: float
    latitude: float
    category_code: str
    category_name_th: str
    category_name_en: str
    category_names: dict[str, str]
    agency_id: int | None
    agency_slug: str | None
    agency_name_th: str | None
    agency_name_en: str | None
    agency_names: dict[str, str] | None
    district_code: str | None
    district_name_th: str | None
    district_name_en: str | None
    district_names: dict[str, str] | None


def _columns(
    spatial: SpatialBackend, distance: ColumnElement[float] | None
) -> list[ColumnElement[Any]]:
    lon, lat = spatial.lon_lat()
    columns: list[ColumnElement[Any] | QueryableAttribute[Any]] = [
        Issue.id,
        Issue.public_id,
        Issue.title,
        Issue.description,
        Issue.address,
        Issue.attributes,
        Issue.status,
        Issue.resolution,
        Issue.priority,
        Issue.created_at,
        Issue.updated_at,
        Issue.acknowledged_at,
        Issue.started_at,
        Issue.resolved_at,
        Issue.closed_at,
        Issue.reopened_at,
        Issue.reopen_count,
        Issue.acknowledge_due_at,
        Issue.resolve_due_at,
        Issue.version,
        distance if distance is not None else null(),
        lon,
        lat,
        Category.code,
        Category.name_th,
        Category.name_en,
        Category.names,
        Agency.id,
        Agency.slug,
        Agency.name_th,
        Agency.name_en,
        Agency.names,
        District.code,
        District.name_th,
        District.name_en,
        District.names,
    ]
    return [c.label(name) for c, name in zip(columns, ListedIssue._fields, strict=True)]


def public_rows(
    session: Session,
    *,
    spatial: SpatialBackend,
    cursors: CursorCodec,
    issue_filter: IssueFilter,
    limit: int,
    cursor: str | None,
) -> tuple[list[ListedIssue], str | None]:
    """One keyset page of the public list (`services.issues.page_query`), in one query."""
    page = issues.page_query(
        session,
        spatial=spatial,
        cursors=cursors,
        issue_filter=issue_filter,
        limit=limit,
        cursor=cursor,
    )
    query = (
        select(*_columns(spatial, page.distance))
        .join(Category, Category.id == Issue.category_id)
        .outerjoin(Agency, Agency.id == Issue.agency_id)
        .outerjoin(District, District.id == Issue.district_id)
        .where(*page.where)
        .order_by(*page.order_by)
        .limit(limit + 1)
    )
    rows = [ListedIssue._make(row) for row in session.execute(query)]
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, page.next_cursor(rows[-1], rows[-1].distance_m)


def _named(name_th: str, name_en: str, names: dict[str, str]) -> str:
    """`schemas.issue.NamedRef.name`."""
    return i18n.name_in(names, i18n.pick(name_th, name_en))


class _Refs:
    """The category, agency and district objects of a page, each written once per page (and
    named once, in the reader's language)."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, object], dict[str, Any]] = {}

    def _once(self, key: tuple[str, object], make: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        found = self._seen.get(key)
        if found is None:
            found = self._seen[key] = make()
        return found

    def category(self, r: ListedIssue) -> dict[str, Any]:
        return self._once(
            ("category", r.category_code),
            lambda: {
                "name_th": r.category_name_th,
                "name_en": r.category_name_en,
                "code": r.category_code,
                "name": _named(r.category_name_th, r.category_name_en, r.category_names),
            },
        )

    def agency(self, r: ListedIssue) -> dict[str, Any] | None:
        if r.agency_id is None:
            return None
        return self._once(
            ("agency", r.agency_id),
            lambda: {
                "name_th": r.agency_name_th,
                "name_en": r.agency_name_en,
                "id": r.agency_id,
                "slug": r.agency_slug,
                "name": _named(
                    r.agency_name_th or "", r.agency_name_en or "", r.agency_names or {}
                ),
            },
        )

    def district(self, r: ListedIssue) -> dict[str, Any] | None:
        if r.district_code is None:
            return None
        return self._once(
            ("district", r.district_code),
            lambda: {
                "name_th": r.district_name_th,
                "name_en": r.district_name_en,
                "code": r.district_code,
                "name": _named(
                    r.district_name_th or "", r.district_name_en or "", r.district_names or {}
                ),
            },
        )


def _properties(r: ListedIssue, refs: _Refs) -> dict[str, Any]:
    """`IssueProperties` without its computed labels (which follow every field on the wire)."""
    return {
        "id": r.public_id,
        "category": refs.category(r),
        "title": r.title,
        "description": r.description,
        "address": r.address,
        "attributes": r.attributes,
        "status": r.status,
        "resolution": r.resolution,
        "priority": r.priority,
        "agency": refs.agency(r),
        "district": refs.district(r),
        "created_at": r.created_at,
        "updated_at": r.updated_at,
        "acknowledged_at": r.acknowledged_at,
        "started_at": r.started_at,
        "resolved_at": r.resolved_at,
        "closed_at": r.closed_at,
        "reopened_at": r.reopened_at,
        "reopen_count": r.reopen_count,
        "acknowledge_due_at": r.acknowledge_due_at,
        "resolve_due_at": r.resolve_due_at,
        "version": r.version,
        "distance_m": r.distance_m,
    }


def _labels(r: ListedIssue) -> dict[str, Any]:
    return {
        "status_label": i18n.label(r.status),
        "resolution_label": i18n.label_of(r.resolution),
        "priority_label": i18n.label(r.priority),
    }


def _dumps(document: dict[str, Any]) -> bytes:
    # Pydantic writes UTC as "Z"; so do we, so that the bytes do not depend on the path taken.
    return orjson.dumps(document, option=orjson.OPT_UTC_Z)


def page_json(rows: Sequence[ListedIssue], next_cursor: str | None) -> bytes:
    """An `IssuePage`."""
    refs = _Refs()
    items = [
        {
            **_properties(r, refs),
            "latitude": r.latitude,
            "longitude": r.longitude,
            **_labels(r),
        }
        for r in rows
    ]
    return _dumps({"items": items, "next_cursor": next_cursor})


def feature_collection_json(rows: Sequence[ListedIssue], next_cursor: str | None) -> bytes:
    """An `IssueFeatureCollection` (RFC 7946)."""
    refs = _Refs()
    features = [
        {
            "type": "Feature",
            "id": r.public_id,
            "geometry": {"type": "Point", "coordinates": [r.longitude, r.latitude]},
            "properties": {**_properties(r, refs), **_labels(r)},
        }
        for r in rows
    ]
    return _dumps({"type": "FeatureCollection", "features": features, "next_cursor": next_cursor})
