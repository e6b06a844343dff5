"""Declarative base shared by every model."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import BigInteger, Integer, MetaData
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.models.types import UTCDateTime

# Deterministic constraint names, so migrations are identical on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGSERIAL on PostgreSQL; INTEGER PRIMARY KEY (the rowid alias) on SQLite, which the R*Tree needs.
IdType = BigInteger().with_variant(Integer(), "sqlite")
# Both hold 64-bit signed ids: a larger number names nothing and must not reach the driver.
MAX_ID = 2**63 - 1


# "Now" for the code running in this context: the real time, unless a caller replays history
# (the demo city's past weeks) through the same services that serve requests.
_replayed_now: ContextVar[dt.datetime | None] = ContextVar("replayed_now", default=None)


def utcnow() -> dt.datetime:
    return _replayed_now.get() or dt.datetime.now(dt.UTC)


@contextmanager
def replaying_at(moment: dt.datetime) -> Iterator[None]:
    """Within this block every service sees `moment` as now (it must be aware and past)."""
    assert moment.tzinfo is not None, moment
    assert moment <= dt.datetime.now(dt.UTC), moment
    token = _replayed_now.set(moment)
    try:
        yield
    finally:
        _replayed_now.reset(token)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)

    def __repr__(self) -> str:
        # Only the identity: touching expired attributes here would emit SQL.
        identity = self.__dict__.get("id", "transient")
        return f"<{type(self).__name__} {identity}>"


class IdMixin:
    id: Mapped[int] = mapped_column(IdType, primary_key=True)


class TimestampMixin:
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
