"""Login sessions: one row per login, the family of every token that login led to."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import Enum, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, IdType, TimestampMixin
from app.models.types import UTCDateTime


class SessionEnd(StrEnum):
    """Why a session stopped working."""

    logout = "logout"
    # A refresh token that had already been traded in came back: someone holds a copy.
    reuse = "reuse"
    deactivated = "deactivated"
    password_reset = "password_reset"


class AuthSession(IdMixin, TimestampMixin, Base):
    """Access and refresh tokens name their session; they work while it is live."""

    __tablename__ = "auth_session"

    user_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    # The generation of the one refresh token that may be traded in next; each refresh moves it
    # on, so an older refresh token of this family is a replay.
    generation: Mapped[int] = mapped_column(Integer, default=0)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    end_reason: Mapped[SessionEnd | None] = mapped_column(
        Enum(SessionEnd, native_enum=False, length=16, create_constraint=True, name="session_end")
    )
