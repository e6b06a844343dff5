"""The rules that turn an issue's flags and priority into its deadlines, set by admins."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdType, utcnow
from app.models.types import UTCDateTime


class PriorityRules(Base):
    """One row (id 1) once an admin saved rules; without it the built-in defaults apply."""

    __tablename__ = "priority_rules"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("at_risk_percent BETWEEN 1 AND 99", name="at_risk_percent_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # {flag: priority}: the priority a flagged issue is raised to at least.
    flag_priority: Mapped[dict[str, str]] = mapped_column(JSON)
    # {priority: factor}: how the category's targets scale for an issue of that priority.
    target_factor: Mapped[dict[str, float]] = mapped_column(JSON)
    # An unfinished step is at risk once this share of its window (report -> due) has passed.
    at_risk_percent: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("user_account.id", ondelete="SET NULL")
    )
