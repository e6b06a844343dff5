"""Moderation of issues: citizens' flags, review before publishing, and redactions."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import CheckConstraint, Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, IdType, utcnow
from app.models.types import UTCDateTime


class FlagReason(StrEnum):
    """Why a citizen says an issue should not stand as it is."""

    abuse = "abuse"
    personal_data = "personal_data"
    not_civic = "not_civic"  # not a civic issue
    duplicate = "duplicate"


class Review(StrEnum):
    """Where a report of a category reviewed before publishing stands (None: no review)."""

    pending = "pending"
    approved = "approved"
    rejected = "rejected"


class RedactedField(StrEnum):
    # Not `title`: a StrEnum member may not shadow str.title.
    issue_title = "title"
    issue_description = "description"
    comment = "comment"
    photo = "photo"  # its public renditions re-made with a region filled in


class IssueModerationFlag(IdMixin, Base):
    """Someone (an account or a device) flags an issue for its moderators; once per person."""

    __tablename__ = "issue_moderation_flag"
    __table_args__ = (
        UniqueConstraint("issue_id", "user_id", name="uq_issue_moderation_flag_issue_id_user_id"),
    )

    issue_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("issue.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[FlagReason] = mapped_column(
        Enum(FlagReason, native_enum=False, length=16, create_constraint=True, name="flag_reason")
    )
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Redaction(IdMixin, Base):
    """What staff removed from an issue's or a comment's text: the original, for the audit only
    (no public surface, export or feed reads this table)."""

    __tablename__ = "redaction"
    __table_args__ = (
        CheckConstraint("(field = 'comment') = (comment_id IS NOT NULL)", name="comment_field"),
        CheckConstraint("(field = 'photo') = (photo_id IS NOT NULL)", name="photo_field"),
    )

    issue_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("issue.id", ondelete="CASCADE"), index=True
    )
    comment_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("comment.id", ondelete="CASCADE"), index=True
    )
    photo_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("photo.id", ondelete="CASCADE"), index=True
    )
    field: Mapped[RedactedField] = mapped_column(
        Enum(
            RedactedField,
            native_enum=False,
            length=16,
            create_constraint=True,
            name="redacted_field",
            # Stored by value ("title"): the member names only dodge str's own attributes.
            values_callable=lambda members: [m.value for m in members],
        )
    )
    # The text as it was; of a photo, its files' storage keys by variant (JSON), which stay
    # stored for the audit while the photo shows the redacted renditions.
    original: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(2000))
    redacted_by_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
