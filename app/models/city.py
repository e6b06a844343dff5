"""The city this deployment serves: its names, languages, time zone and general category."""

from __future__ import annotations

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, TimestampMixin


class City(IdMixin, TimestampMixin, Base):
    """One row, written by `civicloop city apply`."""

    __tablename__ = "city"

    names: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    default_language: Mapped[str] = mapped_column(String(16))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    time_zone: Mapped[str] = mapped_column(String(64))
    # Reports that fit no other category land here and wait in the triage queue.
    general_category_code: Mapped[str] = mapped_column(String(64))
    # Whom to call in an emergency where the district has no number of its own (else the
    # deployment's CIVICLOOP_EMERGENCY_NUMBER).
    emergency_number: Mapped[str | None] = mapped_column(String(32))
