"""Sign-ups waiting for their e-mail address to be confirmed."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Enum, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, TimestampMixin
from app.models.types import UTCDateTime
from app.models.user import Language


class Registration(IdMixin, TimestampMixin, Base):
    """What a sign-up asked for; the account is made only when the link mailed to the address
    comes back, so an address that already has an account is never told apart."""

    __tablename__ = "registration"

    # Not unique: whoever holds the mailbox confirms one of several attempts.
    email: Mapped[str] = mapped_column(String(320), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(120))
    language: Mapped[Language] = mapped_column(
        Enum(Language, native_enum=False, length=8, create_constraint=True, name="language")
    )
    # The device whose earlier reports join the account (a digest, like user_account's).
    device_id_hash: Mapped[str | None] = mapped_column(String(64))
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
