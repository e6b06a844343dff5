"""Accounts: citizens (with an e-mail or only a device), agency staff and admins."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Boolean, CheckConstraint, Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, IdMixin, IdType, TimestampMixin
from app.models.types import UTCDateTime

if TYPE_CHECKING:
    from app.models.agency import Agency


class Role(StrEnum):
    citizen = "citizen"
    agent = "agent"
    manager = "manager"
    admin = "admin"

    @property
    def is_staff(self) -> bool:
        return self in (Role.agent, Role.manager)


class Language(StrEnum):
    th = "th"
    en = "en"


class ContactNeed(StrEnum):
    """How a person needs to be contacted (what staff see, and what shapes their messages)."""

    large_text = "large_text"
    screen_reader = "screen_reader"
    easy_read = "easy_read"  # messages cut to what happened and the link
    sign_language = "sign_language"
    phone_call = "phone_call"


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint(
            "role NOT IN ('agent', 'manager') OR agency_id IS NOT NULL", name="staff_has_agency"
        ),
        CheckConstraint("email IS NOT NULL OR device_id_hash IS NOT NULL", name="has_identity"),
    )

    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    # When its owner showed they read the address (a mailed link came back). Until then it
    # receives the verification message only: no one is mailed at an address they typed for
    # someone else.
    email_verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # SHA-256 of the app-generated device identifier: the identifier is the device's secret.
    device_id_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=16, create_constraint=True, name="role"),
        default=Role.citizen,
    )
    agency_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("agency.id"), index=True)
    language: Mapped[Language] = mapped_column(
        Enum(Language, native_enum=False, length=8, create_constraint=True, name="language"),
        default=Language.th,
    )
    # ContactNeed values the person stated; staff handling their reports see them.
    contact_needs: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Erased by its owner: every personal field is gone; the row stays so that their reports,
    # comments and answers remain part of the civic record, by no one.
    erased_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    agency: Mapped[Agency | None] = relationship(lazy="raise")

    @property
    def mail_to(self) -> str | None:
        """The address messages may go to: a verified one only."""
        return self.email if self.email_verified_at is not None else None
