"""Support ("me too"): a citizen saying an existing issue is their problem too."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, IdType, utcnow
from app.models.types import UTCDateTime


class Support(IdMixin, Base):
    """One person backing one issue, once. Rows carried over by a merge name the duplicate they
    came from: the person contacted us about the duplicate, not again about this issue, so the
    repeat-report rate counts them there and not twice."""

    __tablename__ = "support"
    __table_args__ = (UniqueConstraint("issue_id", "user_id", name="uq_support_issue_id_user_id"),)

    issue_id: Mapped[int] = mapped_column(IdType, ForeignKey("issue.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    carried_from_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("issue.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
