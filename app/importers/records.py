"""What every source is parsed into: one `Record` per report, or a `Rejected` row saying why."""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from app.models import EventAction, IssueStatus, LonLat, Resolution


@dataclass(frozen=True)
class Step:
    """One step of the source's own timeline (Open311 servers that publish their history)."""

    at: dt.datetime
    action: EventAction
    status: IssueStatus
    note: str | None = None


@dataclass(frozen=True)
class Record:
    """A report as the source had it, in this API's terms."""

    line: int  # where in the source: the CSV line it starts on, or its position in the feed
    external_id: str
    created_at: dt.datetime
    location: LonLat
    status: IssueStatus
    category_code: str | None = None
    category_name: str | None = None
    category_group: str | None = None
    agency: str | None = None
    title: str = ""
    description: str = ""
    address: str | None = None
    source_status: str | None = None
    updated_at: dt.datetime | None = None
    acknowledged_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    expected_at: dt.datetime | None = None
    # The public note of the latest status change (an agency's closing text).
    status_note: str | None = None
    history: tuple[Step, ...] = ()
    media_urls: tuple[str, ...] = ()
    address_id: str | None = None
    zipcode: str | None = None
    reopen_count: int = 0
    # How a resolved or closed report ended, when the source says (civicloop's extensions).
    resolution: Resolution | None = None


@dataclass(frozen=True)
class Rejected:
    line: int
    external_id: str | None
    reason: str


@dataclass
class Tally:
    """What a run did: every record is imported, updated, unchanged or rejected."""

    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    categories_created: list[str] = field(default_factory=list)

    @property
    def seen(self) -> int:
        return self.imported + self.updated + self.unchanged + len(self.rejected)

    def reasons(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self.rejected:
            kind = row.reason.split(":")[0]
            counts[kind] = counts.get(kind, 0) + 1
        return counts


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "p", "div", "li"):
            self.parts.append("\n")


_MARKUP = re.compile(r"<[a-zA-Z/!]|&(#?[a-zA-Z0-9]+);")
_BLANKS = re.compile(r"[ \t\u00a0]+")
_LINES = re.compile(r"\n\s*\n+")


def plain_text(value: str | None) -> str:
    """Source text as plain text: some servers (Mark-a-Spot) send agency replies as HTML. Tags
    go, entities are decoded (`&nbsp;`), runs of blanks fold; what is left is shown as text.
    Text without markup is kept as written."""
    if not value:
        return ""
    if not _MARKUP.search(value):
        return value.replace("\r\n", "\n").strip()
    parser = _Text()
    parser.feed(value)
    parser.close()
    value = html.unescape("".join(parser.parts))
    lines = [_BLANKS.sub(" ", line).strip() for line in value.replace("\r\n", "\n").split("\n")]
    return _LINES.sub("\n\n", "\n".join(lines)).strip()
