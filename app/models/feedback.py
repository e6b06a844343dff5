"""The reporter's answer to a resolution: fixed or not, and how satisfied."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Integer, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, IdType, TimestampMixin
from app.models.types import UTCDateTime


class Answer(StrEnum):
    fixed = "fixed"
    not_fixed = "not_fixed"


class IssueFeedback(IdMixin, TimestampMixin, Base):
    __tablename__ = "issue_feedback"
    __table_args__ = (
        # One answer per resolution: a reopened and resolved-again issue asks again.
        UniqueConstraint("issue_id", "resolved_at", name="uq_issue_feedback_issue_id_resolved_at"),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating_1_to_5"),
    )

    issue_id: Mapped[int] = mapped_column(IdType, ForeignKey("issue.id", ondelete="CASCADE"))
    reporter_id: Mapped[int] = mapped_column(IdType, ForeignKey("user_account.id"))
    resolved_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    answer: Mapped[Answer | None] = mapped_column(
        Enum(Answer, native_enum=False, length=16, create_constraint=True, name="answer")
    )
    rating: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    # The comment is also a public comment on the issue (moderated like any other, answerable
    # by the agency); this is it.
    comment_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("comment.id", ondelete="SET NULL")
    )
