"""LINE (Messaging API): the resident behind a LINE user id, and their report in the making."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdType, utcnow
from app.models.types import UTCDateTime


class LineContact(Base):
    """One LINE user: the citizen account their reports belong to (status updates are pushed
    to them in the chat), and what they have sent of the next report so far."""

    __tablename__ = "line_contact"

    line_user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("user_account.id", ondelete="CASCADE"), unique=True
    )
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(500))
    # The image message to attach: its content is fetched from LINE when the report is made.
    photo_message_id: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
