"""The conversation on an issue: public comments, internal notes, flags, response templates."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.agency import Agency
from app.models.base import Base, IdMixin, IdType, TimestampMixin, utcnow
from app.models.types import UTCDateTime
from app.models.user import User


class Comment(IdMixin, Base):
    """A public comment (anyone) or an internal note (the handling agency and admins).

    Its place in the issue's timeline is the `commented`/`noted` event that links to it."""

    __tablename__ = "comment"
    __table_args__ = (Index("ix_comment_issue_id_id", "issue_id", "id"),)

    issue_id: Mapped[int] = mapped_column(IdType, ForeignKey("issue.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    # Role and agency at the time of writing, as events keep them.
    author_role: Mapped[str] = mapped_column(String(16))
    author_agency_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("agency.id"))
    is_internal: Mapped[bool] = mapped_column(Boolean, default=False)
    body: Mapped[str] = mapped_column(Text)
    # The response template it was written from, while that template exists.
    template_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("response_template.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    hidden_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    hidden_by_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("user_account.id", ondelete="SET NULL")
    )
    hidden_reason: Mapped[str | None] = mapped_column(Text)

    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="raise")
    author_agency: Mapped[Agency | None] = relationship(lazy="raise")

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None


class CommentFlag(IdMixin, Base):
    """Someone (an account or a device) says a comment is abusive; once per person."""

    __tablename__ = "comment_flag"
    __table_args__ = (
        UniqueConstraint("comment_id", "user_id", name="uq_comment_flag_comment_id_user_id"),
    )

    comment_id: Mapped[int] = mapped_column(IdType, ForeignKey("comment.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ResponseTemplate(IdMixin, TimestampMixin, Base):
    """An agency's canned answer in Thai and English, with placeholders filled from the issue."""

    __tablename__ = "response_template"
    __table_args__ = (
        UniqueConstraint("agency_id", "name", name="uq_response_template_agency_id_name"),
    )

    agency_id: Mapped[int] = mapped_column(IdType, ForeignKey("agency.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    body_th: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str] = mapped_column(Text)
