"""The audit of what was done with personal data: erasures, retention runs, data downloads."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, IdType, utcnow
from app.models.types import UTCDateTime


class PrivacyAction(StrEnum):
    data_downloaded = "data_downloaded"  # the person took a copy of their data
    account_erased = "account_erased"  # the person erased their account
    retention_applied = "retention_applied"  # a closed issue's personal data reached its end


class PrivacyAudit(IdMixin, Base):
    """One row per act; never holds the personal data itself, only what kind and how much."""

    __tablename__ = "privacy_audit"
    __table_args__ = (Index("ix_privacy_audit_created_at", "created_at"),)

    action: Mapped[PrivacyAction] = mapped_column(
        Enum(
            PrivacyAction,
            native_enum=False,
            length=32,
            create_constraint=True,
            name="privacy_action",
        )
    )
    # The account concerned (still there, anonymised, after an erasure).
    user_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("user_account.id"), index=True)
    issue_id: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("issue.id", ondelete="SET NULL"), index=True
    )
    # Counts of what was removed or kept, by kind ({"follows": 2, "photo_originals": 1}).
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
