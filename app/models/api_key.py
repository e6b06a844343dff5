"""API keys for integrations; only a hash of the secret is stored."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, IdMixin, IdType, TimestampMixin
from app.models.types import UTCDateTime
from app.models.user import User


class ApiKey(IdMixin, TimestampMixin, Base):
    __tablename__ = "api_key"

    user_id: Mapped[int] = mapped_column(IdType, ForeignKey("user_account.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    # Shown in listings so people can tell keys apart; the secret is never stored.
    prefix: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(lazy="raise")
