"""Reports stopped because they describe an emergency: counted, never stored as issues."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, IdType, utcnow
from app.models.types import UTCDateTime


class EmergencyStop(IdMixin, Base):
    """One report stopped and pointed to the emergency number: no reporter, no text, no point
    (only its district), so the count keeps nothing personal."""

    __tablename__ = "emergency_stop"

    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    category_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("category.id", ondelete="CASCADE"), index=True
    )
    district_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("district.id", ondelete="SET NULL")
    )
    # The channel the report came by: api, open311, web.
    channel: Mapped[str] = mapped_column(String(16))
    # The question whose answer is the emergency; none when the category itself is one.
    attribute_code: Mapped[str | None] = mapped_column(String(64))
