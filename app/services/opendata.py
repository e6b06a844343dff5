"""Open data: every public issue as CSV, GeoJSON or NDJSON, streamed in constant memory.

One column list is the schema (`FIELDS`, served as the data dictionary) and one SELECT produces
it for every format. Never exported: anything about the reporter (identity, contact details,
what an Open311 client sent about them), internal (non-public) notes and hidden content. Answers
to category questions are left out too: they differ per category, and a stable schema cannot
hold them (each issue's are public at GET /api/v1/issues/{id}).

On PostgreSQL every line is written by PostgreSQL itself (`COPY (SELECT ...) TO STDOUT`: CSV,
or JSON built with row_to_json); on SQLite rows are fetched in batches from a cursor and written
here the same way.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Select, String, case, cast, func, literal, select
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
        "on_track, at_risk (most of the current step's window gone) or late while unresolved "
        "(against the current step's deadline, at export time); met or missed once resolved.",
        False,
        lambda dialect, _s, now, _l: timeframes.state(now, dialect),
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

# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection"):
# in CSV such a string value gets a ' before it. A value that starts with ' gets one too, so
# that removing one leading ' from every string cell gives back exactly the data.
CSV_ESCAPE = "'"
CSV_ESCAPED_STARTS = ("=", "+", "-", "@", "\t", "\r", CSV_ESCAPE)
CSV_RULE = (
    "In CSV, a string value that starts with = + - @, a tab, a carriage return or ' is written "
    "with a ' before it, so that spreadsheets show it instead of running it as a formula: remove "
    "one leading ' from a string cell to read the value. Numbers are written as they are."
)


def spreadsheet_cell(value: object) -> object:
    """CSV_RULE for a value written from Python (the exports apply it in SQL, below)."""
    if isinstance(value, str) and value.startswith(CSV_ESCAPED_STARTS):
        return CSV_ESCAPE + value
    return value


def _spreadsheet_safe(value: ColumnElement[Any]) -> ColumnElement[Any]:
    text = cast(value, String)
    return case(
        (func.substr(text, 1, 1).in_(CSV_ESCAPED_STARTS), literal(CSV_ESCAPE, String) + text),
        else_=text,
    )


def dictionary(*, licence: str, licence_url: str) -> dict[str, Any]:
    """The data dictionary: what each field means, stable within a schema version."""
    return {
        "schema_version": SCHEMA_VERSION,
        "licence": {"id": licence, "url": licence_url},
        "formats": {f.value: f.media_type for f in ExportFormat},
        "order": "by id of creation, oldest first",
        "csv_strings": CSV_RULE,
        "excluded": [
            "the reporter's identity and contact details",
            "answers to category questions (they differ per category: see each issue)",
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
    fmt: ExportFormat,
) -> Select[Any]:
    """The export's SELECT; building it checks the filter (unknown codes are an error here,
    before any byte is sent). CSV string values are made safe for spreadsheets (CSV_RULE)."""
    dialect = session.get_bind().dialect.name

    def column(field: Field) -> ColumnElement[Any]:
        value = field.expression(dialect, spatial, now, licence)
        if fmt == ExportFormat.csv and field.type == "string":
            value = _spreadsheet_safe(value)
        return value.label(field.name)

    return (
        select(*(column(f) for f in FIELDS))
        .select_from(Issue)
        .join(Category, Category.id == Issue.category_id)
        .outerjoin(Agency, Agency.id == Issue.agency_id)
        .outerjoin(District, District.id == Issue.district_id)
        .where(*issues.filter_conditions(session, spatial, issue_filter))
        .order_by(Issue.id)
    )


# JSON lines out of COPY: in CSV mode with quote and delimiter characters that JSON text never
# contains raw (it escapes every control character), each value is written exactly as it is.
COPY_LINES = "WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')"
GEOJSON_FEATURE = (
    "json_build_object('type', 'Feature', 'id', e.id, 'geometry', json_build_object("
    "'type', 'Point', 'coordinates', json_build_array(e.longitude, e.latitude)), "
    "'properties', row_to_json(e))"
)


def copy_statement(
    session: Session, query: Select[Any], fmt: ExportFormat = ExportFormat.csv
) -> tuple[str, dict[str, Any]]:
    """The export as PostgreSQL's `COPY (...) TO STDOUT`, with its parameters: CSV, or one
    JSON record (NDJSON) or GeoJSON feature per line."""
    compiled = query.compile(
        dialect=session.get_bind().dialect, compile_kwargs={"render_postcompile": True}
    )
    if fmt == ExportFormat.csv:
        return f"COPY ({compiled}) TO STDOUT WITH (FORMAT csv, HEADER)", compiled.params
    record = "row_to_json(e)" if fmt == ExportFormat.ndjson else GEOJSON_FEATURE
    # The inner ORDER BY holds: a plain projection of a subquery keeps its order. Only our own
    # constants and SQLAlchemy's compiled SQL are interpolated; values travel as parameters.
    statement = f"COPY (SELECT {record} FROM ({compiled}) AS e) TO STDOUT {COPY_LINES}"  # noqa: S608
    return statement, compiled.params


def _copy(session: Session, query: Select[Any], fmt: ExportFormat) -> Iterator[bytes]:
    statement, params = copy_statement(session, query, fmt)
    connection = session.connection().connection.driver_connection
    assert connection is not None
    with connection.cursor() as cursor, cursor.copy(statement, params) as copy:
        for data in copy:  # one row per message
            yield bytes(data)


def _python(session: Session, query: Select[Any], fmt: ExportFormat) -> Iterator[bytes]:
    """The same lines as `_copy`, written here from a server-side cursor."""
    rows = session.execute(query.execution_options(yield_per=FETCH_ROWS))
    if fmt == ExportFormat.csv:
        text = io.StringIO()
        # The writer quotes only values holding a character of its line terminator: with \r\n
        # it quotes a carriage return too, as COPY does (else a CR would split the row for a
        # reader). Each line then ends in \n, like COPY's.
        writer = csv.writer(text, lineterminator="\r\n")
        for row in itertools.chain([NAMES], rows):
            writer.writerow(row)
            yield _drain(text)[:-2] + b"\n"
        return
    latitude, longitude = NAMES.index("latitude"), NAMES.index("longitude")
    for row in rows:
        record = dict(zip(NAMES, row, strict=True))
        if fmt == ExportFormat.geojson:
            record = {
                "type": "Feature",
                "id": record["id"],
                "geometry": {"type": "Point", "coordinates": [row[longitude], row[latitude]]},
                "properties": record,
            }
        yield orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)


def _drain(text: io.StringIO) -> bytes:
    data = text.getvalue().encode()
    text.seek(0)
    text.truncate()
    return data


def _feature_collection(features: Iterator[bytes], licence: str, url: str) -> Iterator[bytes]:
    header = {
        "type": "FeatureCollection",
        "schema_version": SCHEMA_VERSION,
        "licence": {"id": licence, "url": url},
    }
    yield orjson.dumps(header)[:-1] + b',"features":[\n'
    separator = b""
    for feature in features:
        yield separator + feature
        separator = b","
    yield b"]}\n"


def stream(
    database: Database,
    query: Select[Any],
    fmt: ExportFormat,
    *,
    licence: str,
    licence_url: str,
) -> Iterator[bytes]:
    """The export in CHUNK_BYTES pieces, read in its own read-only transaction (one snapshot).
    PostgreSQL writes every line itself (COPY); SQLite's rows are written here."""
    with database.session(write=False) as session:
        postgres = session.get_bind().dialect.name == "postgresql"
        lines = (_copy if postgres else _python)(session, query, fmt)
        if fmt == ExportFormat.geojson:
            lines = _feature_collection(lines, licence, licence_url)
        buffer = io.BytesIO()
        for line in lines:
            buffer.write(line)
            if buffer.tell() >= CHUNK_BYTES:
                yield buffer.getvalue()
                buffer = io.BytesIO()
        yield buffer.getvalue()
