"""Subscribers reached over HTTP: agency systems and third-party apps, and browsers' push."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, IdType, TimestampMixin


class Webhook(IdMixin, TimestampMixin, Base):
    """An endpoint told of what its agency (or, with no agency, its owner) would be told."""

    __tablename__ = "webhook"

    owner_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    agency_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("agency.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2048))
    # Signs each delivery (HMAC-SHA256); shown once when created.
    secret: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(String(200), default="")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class PushSubscription(IdMixin, TimestampMixin, Base):
    """A browser's or app's Web Push subscription (RFC 8030 endpoint, RFC 8291 keys)."""

    __tablename__ = "push_subscription"

    user_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    endpoint: Mapped[str] = mapped_column(String(2048), unique=True)
    p256dh: Mapped[str] = mapped_column(String(128))
    auth: Mapped[str] = mapped_column(String(64))
