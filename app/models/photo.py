"""Photos attached to issues, and the processed files each one is stored as."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import Enum, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, IdMixin, IdType, utcnow
from app.models.types import UTCDateTime


class PhotoKind(StrEnum):
    report = "report"  # the problem, from the reporter
    resolution = "resolution"  # the fix, from the handling agency


class PhotoVariant(StrEnum):
    thumbnail = "thumbnail"
    display = "display"
    full = "full"  # the whole re-encoded photo: staff only


class Photo(IdMixin, Base):
    __tablename__ = "photo"
    __table_args__ = (Index("ix_photo_issue_id_id", "issue_id", "id"),)

    issue_id: Mapped[int] = mapped_column(IdType, ForeignKey("issue.id", ondelete="CASCADE"))
    kind: Mapped[PhotoKind] = mapped_column(
        Enum(PhotoKind, native_enum=False, length=16, create_constraint=True, name="photo_kind")
    )
    uploader_id: Mapped[int] = mapped_column(IdType, ForeignKey("user_account.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # From the original's EXIF, the only metadata kept; every other tag is dropped.
    captured_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Moderation: hidden photos are seen only by the agencies involved and admins.
    hidden_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    hidden_by_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("user_account.id"))

    files: Mapped[list[PhotoFile]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="PhotoFile.variant"
    )

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None


class PhotoFile(Base):
    """One stored rendition; its key is the SHA-256 of its bytes, so equal files are stored once."""

    __tablename__ = "photo_file"

    photo_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("photo.id", ondelete="CASCADE"), primary_key=True
    )
    variant: Mapped[PhotoVariant] = mapped_column(
        Enum(
            PhotoVariant, native_enum=False, length=16, create_constraint=True, name="photo_variant"
        ),
        primary_key=True,
    )
    key: Mapped[str] = mapped_column(String(255), index=True)
    content_type: Mapped[str] = mapped_column(String(32))
    byte_size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)

    @property
    def etag(self) -> str:
        # The key names the content's hash: a strong validator for free.
        return '"' + self.key.rsplit("/", 1)[-1].split(".", 1)[0] + '"'
