"""CSV exports in any column layout: a `Layout` says which column holds what.

NYC's 311 open data and Traffy Fondue's export are built in (`LAYOUTS`); any other export is
described by a mapping file of the same fields, JSON or TOML (README, "Importing history").
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from app.importers.records import Record, Rejected, plain_text
from app.models import IssueStatus, LonLat


class Layout(BaseModel):
    """Where each field of a report is in a CSV export. Column names are the header's."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str = Field(
        min_length=1, max_length=100, description="Names the source: ids are unique within it."
    )
    id: str = Field(description="The column of the source's own id (the import key).")
    created: str = Field(description="When it was reported.")
    updated: str | None = Field(None, description="The source's last change.")
    closed: str | None = Field(None, description="When it was closed (read for done statuses).")
    expected: str | None = Field(None, description="The source's due date.")
    time_format: str | None = Field(
        None, description="strptime format of the times; none: ISO 8601 (space or T)."
    )
    time_zone: str = Field("UTC", description="IANA zone of times written without an offset.")
    status: str | None = None
    statuses: dict[str, IssueStatus] = Field(
        default_factory=dict, description="Each status word of the source, as a status here."
    )
    default_status: IssueStatus | None = Field(
        None, description="For rows without a status or without a status column."
    )
    category: str | None = None
    category_format: Literal["text", "array"] = Field(
        "text", description="`array`: a Postgres array literal such as {road,footpath} (first)."
    )
    categories: dict[str, str] = Field(
        default_factory=dict, description="Source category names to category codes here."
    )
    agency: str | None = None
    agency_separator: str | None = Field(
        None, description="Several agencies in one cell, in routing order: the first is kept."
    )
    title: list[str] = Field(
        default_factory=list, description="Joined with ' - '; none: the description's first line."
    )
    description: list[str] = Field(default_factory=list)
    latitude: str | None = None
    longitude: str | None = None
    coordinates: str | None = Field(None, description="One column holding `lon,lat`.")
    address: list[str] = Field(default_factory=list)
    zipcode: str | None = None
    notes: list[str] = Field(
        default_factory=list, description="Public notes: the agency's text on the latest change."
    )
    media: list[str] = Field(
        default_factory=list, description="Columns holding photo or media URLs (kept as links)."
    )
    reopen_count: str | None = None
    encoding: str = "utf-8-sig"

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (an IANA name such as UTC)") from None
        return value

    @model_validator(mode="after")
    def _placed(self) -> Self:
        if not self.coordinates and not (self.latitude and self.longitude):
            raise ValueError("say where reports are: coordinates, or latitude and longitude")
        if not self.status and self.default_status is None:
            raise ValueError("say the status: a status column (with statuses) or default_status")
        return self

    def columns(self) -> set[str]:
        single = (
            self.id,
            self.created,
            self.updated,
            self.closed,
            self.expected,
            self.status,
            self.category,
            self.agency,
            self.latitude,
            self.longitude,
            self.coordinates,
            self.zipcode,
            self.reopen_count,
        )
        lists = (*self.title, *self.description, *self.address, *self.notes, *self.media)
        return {c for c in (*single, *lists) if c}


NYC311 = Layout(
    source="nyc311",
    id="Unique Key",
    created="Created Date",
    updated="Resolution Action Updated Date",
    closed="Closed Date",
    expected="Due Date",
    time_format="%m/%d/%Y %I:%M:%S %p",
    time_zone="America/New_York",
    status="Status",
    statuses={
        "Open": IssueStatus.open,
        "Unassigned": IssueStatus.open,
        "Pending": IssueStatus.open,
        "Assigned": IssueStatus.acknowledged,
        "Started": IssueStatus.in_progress,
        "In Progress": IssueStatus.in_progress,
        "Closed": IssueStatus.closed,
    },
    category="Complaint Type",
    agency="Agency",
    title=["Complaint Type", "Descriptor"],
    description=["Descriptor"],
    latitude="Latitude",
    longitude="Longitude",
    address=["Incident Address", "City"],
    zipcode="Incident Zip",
    notes=["Resolution Description"],
)

TRAFFY = Layout(
    source="traffy",
    id="ticket_id",
    created="timestamp",
    updated="last_activity",
    closed="last_activity",
    status="state",
    statuses={
        "รอรับเรื่อง": IssueStatus.open,  # waiting to be accepted
        "ส่งต่อ(ใหม่)": IssueStatus.open,  # forwarded (new)
        "กำลังดำเนินการ": IssueStatus.in_progress,
        "ศึกษาปัญหา": IssueStatus.in_progress,  # studying the problem
        "ของบประมาณ": IssueStatus.in_progress,  # requesting budget
        "จัดซื้อจัดจ้าง": IssueStatus.in_progress,  # procurement
        "เสร็จสิ้น": IssueStatus.closed,  # finished
    },
    category="type",
    category_format="array",
    agency="organization",
    agency_separator=",",
    description=["comment"],
    coordinates="coords",
    address=["address"],
    media=["photo", "photo_after"],
    reopen_count="count_reopen",
)

LAYOUTS = {"nyc311": NYC311, "traffy": TRAFFY}


class LayoutError(ValueError):
    pass


def load_layout(path: Path) -> Layout:
    """A mapping file (.json or .toml) with the fields of `Layout`; errors name the field."""
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
        return Layout.model_validate(data)
    except OSError as exc:
        raise LayoutError(f"{path}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise LayoutError(f"{path}: not valid {path.suffix.lstrip('.') or 'JSON'}: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg']}" for e in exc.errors()
        )
        raise LayoutError(f"{path}: {problems}") from None


class RowError(ValueError):
    pass


class _Row:
    """One CSV row read through a layout."""

    def __init__(self, layout: Layout, zone: ZoneInfo, cells: dict[str, str]) -> None:
        self.layout, self.zone, self.cells = layout, zone, cells

    def text(self, column: str | None) -> str:
        return (self.cells.get(column) or "").strip() if column else ""

    def joined(self, columns: list[str], separator: str) -> str:
        return separator.join(v for v in (self.text(c) for c in columns) if v)

    def time(self, column: str | None, *, required: bool = False) -> dt.datetime | None:
        raw = self.text(column)
        if not raw:
            if required:
                raise RowError(f"no {column}")
            return None
        try:
            if self.layout.time_format:
                moment = dt.datetime.strptime(raw, self.layout.time_format)
            else:
                moment = dt.datetime.fromisoformat(raw)
        except ValueError:
            expected = self.layout.time_format or "ISO 8601"
            raise RowError(f"bad time: {column} {raw!r} is not {expected}") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.zone)
        return moment.astimezone(dt.UTC)

    def number(self, column: str, low: float, high: float) -> float:
        raw = self.text(column)
        try:
            value = float(raw)
        except ValueError:
            raise RowError(f"bad coordinates: {column} {raw!r} is not a number") from None
        if not low <= value <= high:
            raise RowError(f"bad coordinates: {column} {raw!r} is outside {low:g}..{high:g}")
        return value

    def location(self) -> LonLat:
        layout = self.layout
        if layout.coordinates:
            parts = self.text(layout.coordinates).split(",")
            if len(parts) != 2 or not all(p.strip() for p in parts):
                raise RowError(f"no coordinates: {layout.coordinates} is not `lon,lat`")
            cells = {"longitude": parts[0], "latitude": parts[1]}
            pair = _Row(layout, self.zone, cells)
            return LonLat(pair.number("longitude", -180, 180), pair.number("latitude", -90, 90))
        if not self.text(layout.latitude) or not self.text(layout.longitude):
            raise RowError("no coordinates: this API places every report by position")
        latitude = self.number(layout.latitude or "", -90, 90)
        return LonLat(self.number(layout.longitude or "", -180, 180), latitude)

    def status(self) -> tuple[IssueStatus, str | None]:
        word = self.text(self.layout.status)
        if not word:
            if self.layout.default_status is None:
                raise RowError(f"no status: {self.layout.status or 'status'} is empty")
            return self.layout.default_status, None
        if word not in self.layout.statuses:
            known = ", ".join(self.layout.statuses) or "none"
            raise RowError(f"unknown status: {word!r} (the layout maps {known})")
        return self.layout.statuses[word], word

    def category(self) -> str | None:
        raw = self.text(self.layout.category)
        if self.layout.category_format == "array":
            values = next(csv.reader([raw.strip("{}")]), []) if raw.strip("{}") else []
            raw = values[0].strip().strip('"') if values else ""
        return raw or None

    def agency(self) -> str | None:
        raw = self.text(self.layout.agency)
        if self.layout.agency_separator:
            raw = raw.split(self.layout.agency_separator)[0].strip()
        return raw or None

    def record(self, line: int, external_id: str) -> Record:
        layout = self.layout
        status, word = self.status()
        created = self.time(layout.created, required=True)
        assert created is not None
        done = status in (IssueStatus.resolved, IssueStatus.closed)
        reopened = self.text(layout.reopen_count)
        if reopened and not reopened.isdigit():
            raise RowError(f"bad number: {layout.reopen_count} {reopened!r}")
        return Record(
            line=line,
            external_id=external_id,
            created_at=created,
            location=self.location(),
            status=status,
            source_status=word,
            category_name=self.category(),
            agency=self.agency(),
            title=self.joined(layout.title, " - "),
            description=plain_text(self.joined(layout.description, "\n\n")),
            address=self.joined(layout.address, ", ") or None,
            zipcode=self.text(layout.zipcode) or None,
            updated_at=self.time(layout.updated),
            closed_at=self.time(layout.closed) if done else None,
            expected_at=self.time(layout.expected),
            status_note=plain_text(self.joined(layout.notes, "\n\n")) or None,
            media_urls=tuple(u for u in (self.text(c) for c in layout.media) if u),
            reopen_count=int(reopened or 0),
        )


def read(path: Path, layout: Layout) -> Iterator[Record | Rejected]:
    """Each row as a record, or rejected with its line (where the row starts) and reason."""
    zone = ZoneInfo(layout.time_zone)
    with path.open(encoding=layout.encoding, newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise LayoutError(f"{path}: empty file (no header row)")
        missing = sorted(layout.columns() - set(header))
        if missing:
            raise LayoutError(
                f"{path}: the layout's columns {', '.join(map(repr, missing))} are not in the "
                "header row"
            )
        seen: dict[str, int] = {}
        line = reader.line_num + 1
        for cells in reader:
            row = _Row(layout, zone, dict(zip(header, cells, strict=False)))
            external_id = row.text(layout.id)
            if not external_id:
                yield Rejected(line, None, f"no id: {layout.id} is empty")
            elif external_id in seen:
                yield Rejected(line, external_id, f"repeated id: also on line {seen[external_id]}")
            else:
                seen[external_id] = line
                try:
                    yield row.record(line, external_id)
                except RowError as problem:
                    yield Rejected(line, external_id, str(problem))
            line = reader.line_num + 1


def count_rows(path: Path, layout: Layout) -> int:
    """Rows after the header (for the progress bar)."""
    with path.open(encoding=layout.encoding, newline="") as handle:
        return max(sum(1 for _ in csv.reader(handle)) - 1, 0)
