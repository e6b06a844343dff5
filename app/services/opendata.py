"""Open data: every public issue as CSV, GeoJSON or NDJSON, streamed in constant memory.

One column list is the schema (`FIELDS`, served as the data dictionary) and one SELECT produces
it for every format. What is never exported: anything about the reporter (identity, contact
details, what an Open311 client sent about them), internal (non-public) notes, attribute
answers (free text that may name people) and hidden content.

CSV on PostgreSQL is written by PostgreSQL itself (`COPY (SELECT ...) TO STDOUT`); elsewhere
rows are fetched in batches from a server-side cursor and written here.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Select, case, func, literal, select
from sqlalchemy.orm import Session

from app.db import Database
from app.models import Agency, Category, District, Issue
from app.services import issues, timeframes
from app.services.issues import IssueFilter
from app.services.open311 import ISSUE_STATUSES, Open311Status
from app.services.sqltime import iso_utc
from app.spatial import SpatialBackend

SCHEMA_VERSION = "1.0"
# Bytes handed to the server per chunk: large enough that per-chunk overhead vanishes.
CHUNK_BYTES = 256 * 1024
FETCH_ROWS = 5000


class ExportFormat(StrEnum):
    csv = "csv"
    geojson = "geojson"
    ndjson = "ndjson"

    @property
    def media_type(self) -> str:
        return {
            ExportFormat.csv: "text/csv; charset=utf-8",
            ExportFormat.geojson: "application/geo+json",
            ExportFormat.ndjson: "application/x-ndjson",
        }[self]


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # string | number | integer | datetime (ISO 8601, UTC, to the second)
    description: str
    nullable: bool
    expression: Callable[[str, SpatialBackend, dt.datetime, str], ColumnElement[Any]]


def _column(column: Any) -> Callable[[str, SpatialBackend, dt.datetime, str], Any]:
    return lambda _dialect, _spatial, _now, _licence: column


def _time(column: Any) -> Callable[[str, SpatialBackend, dt.datetime, str], Any]:
    return lambda dialect, _spatial, _now, _licence: iso_utc(column, dialect)


def _text(column: Any) -> Callable[[str, SpatialBackend, dt.datetime, str], Any]:
    # Empty text is exported as missing, the same way in every format and on every database.
    return lambda _dialect, _spatial, _now, _licence: func.nullif(column, "")


_open_statuses = [s.value for s in ISSUE_STATUSES[Open311Status.open]]

FIELDS: tuple[Field, ...] = (
    Field("id", "string", "Stable public id of the issue.", False, _column(Issue.public_id)),
    Field(
        "status",
        "string",
        "open or closed, as Open311 GeoReport v2 defines them.",
        False,
        lambda *_: case(
            (Issue.status.in_(_open_statuses), Open311Status.open.value),
            else_=Open311Status.closed.value,
        ),
    ),
    Field(
        "status_detail",
        "string",
        "open, acknowledged, in_progress, resolved or closed.",
        False,
        _column(Issue.status),
    ),
    Field(
        "resolution",
        "string",
        "fixed, duplicate, not_actionable, referred or wont_fix; empty until resolved.",
        True,
        _column(Issue.resolution),
    ),
    Field("priority", "string", "low, normal, high or urgent.", False, _column(Issue.priority)),
    Field("service_code", "string", "Category code.", False, _column(Category.code)),
    Field("service_name", "string", "Category name in English.", False, _column(Category.name_en)),
    Field("service_name_th", "string", "Category name in Thai.", False, _column(Category.name_th)),
    Field("title", "string", "Short title written by the reporter.", False, _text(Issue.title)),
    Field("description", "string", "The reporter's description.", True, _text(Issue.description)),
    Field("address", "string", "Address as reported.", True, _text(Issue.address)),
    Field(
        "agency",
        "string",
        "Slug of the agency handling it; empty until claimed.",
        True,
        _column(Agency.slug),
    ),
    Field("agency_name", "string", "That agency's name in English.", True, _column(Agency.name_en)),
    Field(
        "district",
        "string",
        "Code of the district the point lies in; empty outside every district.",
        True,
        _column(District.code),
    ),
    Field(
        "district_name",
        "string",
        "That district's name in English.",
        True,
        _column(District.name_en),
    ),
    Field(
        "latitude",
        "number",
        "WGS84 latitude.",
        False,
        lambda _d, spatial, _n, _l: spatial.lon_lat()[1],
    ),
    Field(
        "longitude",
        "number",
        "WGS84 longitude.",
        False,
        lambda _d, spatial, _n, _l: spatial.lon_lat()[0],
    ),
    Field(
        "requested_datetime", "datetime", "When it was reported.", False, _time(Issue.created_at)
    ),
    Field("updated_datetime", "datetime", "Its last change.", False, _time(Issue.updated_at)),
    Field(
        "acknowledged_datetime",
        "datetime",
        "When an agency claimed it.",
        True,
        _time(Issue.acknowledged_at),
    ),
    Field("resolved_datetime", "datetime", "When it was resolved.", True, _time(Issue.resolved_at)),
    Field("closed_datetime", "datetime", "When it was closed.", True, _time(Issue.closed_at)),
    Field(
        "acknowledge_due_datetime",
        "datetime",
        "Service-level deadline to acknowledge it.",
        False,
        _time(Issue.acknowledge_due_at),
    ),
    Field(
        "expected_datetime",
        "datetime",
        "Service-level deadline to resolve it (Open311's expected_datetime).",
        False,
        _time(Issue.resolve_due_at),
    ),
    Field(
        "timeframe",
        "string",
        "on_track or late while unresolved (against the current step's deadline, at export "
        "time); met or missed once resolved.",
        False,
        lambda _d, _s, now, _l: timeframes.state(now),
    ),
    Field("reopen_count", "integer", "Times it was reopened.", False, _column(Issue.reopen_count)),
    Field(
        "licence",
        "string",
        "Licence of this record (an SPDX identifier).",
        False,
        lambda _d, _s, _n, licence: literal(licence),
    ),
)
NAMES = [f.name for f in FIELDS]


def dictionary(*, licence: str, licence_url: str) -> dict[str, Any]:
    """The data dictionary: what each field means, stable within a schema version."""
    return {
        "schema_version": SCHEMA_VERSION,
        "licence": {"id": licence, "url": licence_url},
        "formats": {f.value: f.media_type for f in ExportFormat},
        "order": "by id of creation, oldest first",
        "excluded": [
            "the reporter's identity and contact details",
            "answers to category questions",
            "internal notes and non-public timeline steps",
            "hidden photos",
        ],
        "fields": [
            {"name": f.name, "type": f.type, "nullable": f.nullable, "description": f.description}
            for f in FIELDS
        ],
    }


def export_query(
    session: Session,
    *,
    spatial: SpatialBackend,
    issue_filter: IssueFilter,
    now: dt.datetime,
    licence: str,
) -> Select[Any]:
    """The export's SELECT; building it checks the filter (unknown codes are an error here,
    before any byte is sent)."""
    dialect = session.get_bind().dialect.name
    return (
        select(*(f.expression(dialect, spatial, now, licence).label(f.name) for f in FIELDS))
        .select_from(Issue)
        .join(Category, Category.id == Issue.category_id)
        .outerjoin(Agency, Agency.id == Issue.agency_id)
        .outerjoin(District, District.id == Issue.district_id)
        .where(*issues.filter_conditions(session, spatial, issue_filter))
        .order_by(Issue.id)
    )


class _Chunks:
    """Collects output and hands it on in CHUNK_BYTES pieces."""

    def __init__(self) -> None:
        self.buffer = io.BytesIO()

    def add(self, data: bytes) -> bytes | None:
        self.buffer.write(data)
        if self.buffer.tell() < CHUNK_BYTES:
            return None
        return self.take()

    def take(self) -> bytes:
        data = self.buffer.getvalue()
        self.buffer = io.BytesIO()
        return data


def copy_statement(session: Session, query: Select[Any]) -> tuple[str, dict[str, Any]]:
    """The export as PostgreSQL's `COPY (SELECT ...) TO STDOUT` CSV, with its parameters."""
    compiled = query.compile(
        dialect=session.get_bind().dialect, compile_kwargs={"render_postcompile": True}
    )
    return f"COPY ({compiled}) TO STDOUT WITH (FORMAT csv, HEADER)", compiled.params


def _copy_csv(session: Session, query: Select[Any]) -> Iterator[bytes]:
    statement, params = copy_statement(session, query)
    connection = session.connection().connection.driver_connection
    assert connection is not None
    chunks = _Chunks()
    with connection.cursor() as cursor, cursor.copy(statement, params) as copy:
        for data in copy:
            if (ready := chunks.add(bytes(data))) is not None:
                yield ready
    yield chunks.take()


def _rows(session: Session, query: Select[Any]) -> Iterator[Sequence[Any]]:
    yield from session.execute(query.execution_options(yield_per=FETCH_ROWS))


def _csv(session: Session, query: Select[Any]) -> Iterator[bytes]:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(NAMES)
    for row in _rows(session, query):
        writer.writerow(row)
        if text.tell() >= CHUNK_BYTES:
            yield text.getvalue().encode()
            text.seek(0)
            text.truncate()
    yield text.getvalue().encode()


def _ndjson(session: Session, query: Select[Any]) -> Iterator[bytes]:
    chunks = _Chunks()
    for row in _rows(session, query):
        line = orjson.dumps(dict(zip(NAMES, row, strict=True)), option=orjson.OPT_APPEND_NEWLINE)
        if (ready := chunks.add(line)) is not None:
            yield ready
    yield chunks.take()


def _geojson(
    session: Session, query: Select[Any], licence: str, licence_url: str
) -> Iterator[bytes]:
    header = orjson.dumps(
        {
            "type": "FeatureCollection",
            "schema_version": SCHEMA_VERSION,
            "licence": {"id": licence, "url": licence_url},
        }
    )
    chunks = _Chunks()
    chunks.add(header[:-1] + b',"features":[\n')
    lat, lon = NAMES.index("latitude"), NAMES.index("longitude")
    separator = b""
    for row in _rows(session, query):
        properties = dict(zip(NAMES, row, strict=True))
        feature = {
            "type": "Feature",
            "id": properties["id"],
            "geometry": {"type": "Point", "coordinates": [row[lon], row[lat]]},
            "properties": properties,
        }
        if (ready := chunks.add(separator + orjson.dumps(feature))) is not None:
            yield ready
        separator = b",\n"
    chunks.add(b"\n]}\n")
    yield chunks.take()


def stream(
    database: Database,
    query: Select[Any],
    fmt: ExportFormat,
    *,
    licence: str,
    licence_url: str,
) -> Iterator[bytes]:
    """The export, chunk by chunk, read in its own read-only transaction (one snapshot)."""
    with database.session(write=False) as session:
        if fmt == ExportFormat.csv and session.get_bind().dialect.name == "postgresql":
            yield from _copy_csv(session, query)
        elif fmt == ExportFormat.csv:
            yield from _csv(session, query)
        elif fmt == ExportFormat.ndjson:
            yield from _ndjson(session, query)
        else:
            yield from _geojson(session, query, licence, licence_url)
