"""Where an imported issue came from: the source system's id and what has no column elsewhere."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdType, utcnow
from app.models.types import UTCDateTime


class IssueImport(Base):
    """One per imported issue. (source, external_id) is the import's idempotency key: a second
    run finds the row and imports nothing twice."""

    __tablename__ = "issue_import"
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_issue_import_source_external_id"),
        # Search by the original id, whatever the source.
        Index("ix_issue_import_external_id", "external_id"),
    )

    issue_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("issue.id", ondelete="CASCADE"), primary_key=True
    )
    # e.g. `nyc311`, `traffy`, or `open311:https://city.example/open311/v2`.
    source: Mapped[str] = mapped_column(String(300))
    external_id: Mapped[str] = mapped_column(String(200))
    # The source's own status word (`Pending`, `รอรับเรื่อง`), kept as it was.
    source_status: Mapped[str | None] = mapped_column(String(100))
    # The source's last change: a later import with a newer one updates the issue.
    source_updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # The responsible agency as the source named it (kept when no agency here matches).
    agency_name: Mapped[str | None] = mapped_column(String(300))
    address_id: Mapped[str | None] = mapped_column(String(200))
    zipcode: Mapped[str | None] = mapped_column(String(40))
    # Photos and other media stay links to where the source keeps them.
    media_urls: Mapped[list[str]] = mapped_column(JSON, default=list)
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ImportCursor(Base):
    """How far an incremental source (Open311) has been read: later runs ask only for what
    changed since."""

    __tablename__ = "import_cursor"

    source: Mapped[str] = mapped_column(String(300), primary_key=True)
    # Requests reported before this were all read (the windowed first pass resumes here).
    read_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # The latest updated_datetime seen: the next run asks for updated_after it.
    updated_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
