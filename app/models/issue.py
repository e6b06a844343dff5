"""Issues: what citizens report, and the agencies it was routed to."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.agency import Agency
from app.models.base import Base, IdMixin, IdType, TimestampMixin
from app.models.category import Category
from app.models.district import District
from app.models.map_cell import issue_cell_default
from app.models.moderation import Review
from app.models.types import LonLat, PointType, UTCDateTime
from app.models.user import User


class IssueStatus(StrEnum):
    open = "open"
    acknowledged = "acknowledged"
    in_progress = "in_progress"
    resolved = "resolved"
    closed = "closed"


class Resolution(StrEnum):
    fixed = "fixed"
    duplicate = "duplicate"
    not_actionable = "not_actionable"
    referred = "referred"
    wont_fix = "wont_fix"


class Priority(StrEnum):
    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"


class Flag(StrEnum):
    """Who or what a problem affects; flagged issues get priority by the priority rules."""

    accessibility = "accessibility"  # a broken ramp, a blocked footpath
    vulnerable_people_affected = "vulnerable_people_affected"
    safety_hazard = "safety_hazard"


def _enum(enum: type[StrEnum], name: str, length: int = 16) -> Enum:
    return Enum(enum, native_enum=False, length=length, create_constraint=True, name=name)


# The agencies whose jurisdiction covered the point and that handle the category when the issue
# was reported: their queues show it until one of them claims it.
issue_candidate = Table(
    "issue_candidate",
    Base.metadata,
    Column("issue_id", IdType, ForeignKey("issue.id", ondelete="CASCADE"), primary_key=True),
    Column("agency_id", IdType, ForeignKey("agency.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_issue_candidate_agency_id", "agency_id"),
)

# An issue's flags: its category's defaults plus what the reporter or staff said. A table rather
# than a list column, so work queues filter by flag with one indexed lookup on both databases.
issue_flag = Table(
    "issue_flag",
    Base.metadata,
    Column("issue_id", IdType, ForeignKey("issue.id", ondelete="CASCADE"), primary_key=True),
    Column("flag", _enum(Flag, "flag", length=32), primary_key=True),
    Index("ix_issue_flag_flag", "flag"),
)


class Issue(IdMixin, TimestampMixin, Base):
    __tablename__ = "issue"
    __table_args__ = (
        CheckConstraint(
            "(status IN ('resolved', 'closed')) OR resolution IS NULL",
            name="resolution_only_when_resolved",
        ),
        CheckConstraint("reopen_count >= 0", name="reopen_count_non_negative"),
        Index("ix_issue_created_at_id", "created_at", "id"),
        Index("ix_issue_updated_at_id", "updated_at", "id"),
        Index("ix_issue_status_created_at", "status", "created_at"),
        # Statistics of time to acknowledge and to resolve read only these (index-only scans).
        Index(
            "ix_issue_acknowledged_at",
            "acknowledged_at",
            "created_at",
            "acknowledge_due_at",
            postgresql_where=text("acknowledged_at IS NOT NULL"),
            sqlite_where=text("acknowledged_at IS NOT NULL"),
        ),
        Index(
            "ix_issue_resolved_at",
            "resolved_at",
            "created_at",
            "resolve_due_at",
            postgresql_where=text("resolved_at IS NOT NULL"),
            sqlite_where=text("resolved_at IS NOT NULL"),
        ),
    )

    public_id: Mapped[str] = mapped_column(String(16), unique=True)
    category_id: Mapped[int] = mapped_column(IdType, ForeignKey("category.id"), index=True)
    reporter_id: Mapped[int] = mapped_column(IdType, ForeignKey("user_account.id"), index=True)
    agency_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("agency.id"), index=True)
    # The district covering the point when reported (None outside every district); on a border
    # shared by several, the one whose code sorts first (see SpatialBackend.district_id_at).
    district_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("district.id"), index=True)
    # The staff member of the handling agency working on it (None: anyone of the agency).
    assignee_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("user_account.id"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    location: Mapped[LonLat] = mapped_column(PointType())
    # The point's H3 cell at map_cell.FINEST_RESOLUTION: what the map counts are keyed by.
    h3_cell: Mapped[int | None] = mapped_column(BigInteger, default=issue_cell_default)
    address: Mapped[str | None] = mapped_column(String(500))
    # Answers to the category's attribute questions, checked against their definitions.
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[IssueStatus] = mapped_column(_enum(IssueStatus, "issue_status"))
    resolution: Mapped[Resolution | None] = mapped_column(_enum(Resolution, "resolution"))
    priority: Mapped[Priority] = mapped_column(_enum(Priority, "priority"), default=Priority.normal)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    reopened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    # Service-level deadlines fixed when reported, from the category's targets.
    acknowledge_due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    resolve_due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # Hidden by moderation: gone from every public surface, still worked on by its agencies.
    hidden_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # The reporter's choice: seen only by them, the agencies involved and admins; absent from
    # every public surface (lists, maps, Open311, exports, statistics, area alerts).
    is_private: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Reports of a category reviewed before publishing: kept from the public like a private
    # report until staff approve them, and for good when they reject them (None: no review).
    review: Mapped[Review | None] = mapped_column(_enum(Review, "review"))
    # When the retention policy took its personal data (reporter, followers, photo originals).
    personal_data_removed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer)
    # Set when staff merged this issue into the one reporting the same problem (resolution
    # `duplicate`); that issue lists its duplicates by this column.
    duplicate_of_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("issue.id"), index=True)

    category: Mapped[Category] = relationship(lazy="raise")
    agency: Mapped[Agency | None] = relationship(lazy="raise")
    # Loaded with every issue (one query per batch, code and names only: the area is deferred).
    district: Mapped[District | None] = relationship(lazy="selectin")
    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id], lazy="raise")
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id], lazy="raise")
    candidates: Mapped[list[Agency]] = relationship(secondary=issue_candidate, lazy="raise")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    @property
    def is_restricted(self) -> bool:
        """Seen only by its reporter, the agencies involved and admins: a private report, or
        one awaiting review or rejected by it (`issues.not_restricted` is the same in SQL)."""
        return restricted(self.is_private, self.review)


def restricted(is_private: bool, review: Review | None) -> bool:
    """The rule of `Issue.is_restricted`, for code holding an issue's values rather than the
    issue (the statistics rollups)."""
    return is_private or review in (Review.pending, Review.rejected)


# Radius, bounding-box and nearest queries: GiST on PostGIS; SQLite keeps an R*Tree instead.
Index("ix_issue_location", Issue.location, postgresql_using="gist").ddl_if(dialect="postgresql")
