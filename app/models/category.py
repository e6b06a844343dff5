"""Categories of problems (Open311 "services") with their service-level targets."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, CheckConstraint, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, TimestampMixin


class Category(IdMixin, TimestampMixin, Base):
    __tablename__ = "category"
    __table_args__ = (
        CheckConstraint("acknowledge_target_hours > 0", name="acknowledge_target_positive"),
        CheckConstraint(
            "resolve_target_hours >= acknowledge_target_hours", name="resolve_after_acknowledge"
        ),
    )

    code: Mapped[str] = mapped_column(String(64), unique=True)
    group: Mapped[str] = mapped_column(String(64), index=True)
    name_th: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    description_th: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    acknowledge_target_hours: Mapped[int] = mapped_column(Integer)
    resolve_target_hours: Mapped[int] = mapped_column(Integer)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
