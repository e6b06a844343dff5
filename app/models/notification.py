"""The transactional outbox: one row per message to deliver, written with the change it tells of."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, IdMixin, IdType, TimestampMixin, utcnow
from app.models.issue_event import IssueEvent
from app.models.types import UTCDateTime


class Channel(StrEnum):
    email = "email"
    webhook = "webhook"
    webpush = "webpush"
    line = "line"  # a push message in the LINE chat of a resident who reported there


class NotificationStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    dead = "dead"


def _enum(enum: type[StrEnum], name: str) -> Enum:
    return Enum(enum, native_enum=False, length=16, create_constraint=True, name=name)


class Notification(IdMixin, TimestampMixin, Base):
    __tablename__ = "notification"
    __table_args__ = (
        # The worker's claim: due pending rows, oldest first.
        Index("ix_notification_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_notification_issue_id_id", "issue_id", "id"),
    )

    # Stable across retries: the e-mail Message-ID and the webhook id, so receivers drop repeats.
    message_id: Mapped[str] = mapped_column(String(36), unique=True)
    issue_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("issue.id", ondelete="CASCADE"))
    event_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("issue_event.id", ondelete="CASCADE"), index=True
    )
    recipient_user_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    # SET NULL: a removed subscriber leaves the log of what was sent to it.
    webhook_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("webhook.id", ondelete="SET NULL"), index=True
    )
    push_subscription_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("push_subscription.id", ondelete="SET NULL"), index=True
    )
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "channel"))
    # E-mail address, webhook URL or push endpoint at the time of sending: the log shows it.
    destination: Mapped[str] = mapped_column(String(2048))
    # Why this recipient: reporter, follower, watcher, agency (staff) or webhook.
    reason: Mapped[str] = mapped_column(String(16))
    template: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8))
    # What the message says, fixed when the change happened (the issue may change again later).
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # What a one-click unsubscribe in this message ends, e.g. "follow:12"; none for webhooks.
    unsubscribe_ref: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[NotificationStatus] = mapped_column(
        _enum(NotificationStatus, "notification_status"), default=NotificationStatus.pending
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # When a worker may next take it; a claim pushes it ahead by the lease (visibility timeout).
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    # Lets the outbox row be added with its event before the event has an id.
    event: Mapped[IssueEvent | None] = relationship(lazy="raise")


class NotificationPreference(Base):
    """A person's choices; no row means the defaults (every channel they have, agency alerts on)."""

    __tablename__ = "notification_preference"

    user_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    email: Mapped[bool] = mapped_column(Boolean, default=True)
    webpush: Mapped[bool] = mapped_column(Boolean, default=True)
    webhook: Mapped[bool] = mapped_column(Boolean, default=True)
    # Staff: new and transferred issues arriving in their agency's queue.
    agency_alerts: Mapped[bool] = mapped_column(Boolean, default=True)
