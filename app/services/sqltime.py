"""Time arithmetic that PostgreSQL and SQLite spell differently, with the same results on both.

Times are compared as whole seconds since the Unix epoch (each timestamp truncated on its own),
so a duration or an hour bucket is the same integer on both databases.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, cast, func, literal_column

ISO_UTC_PG = 'YYYY-MM-DD"T"HH24:MI:SS"Z"'
ISO_UTC_SQLITE = "%Y-%m-%dT%H:%M:%SZ"


def epoch_seconds(column: Any, dialect: str) -> ColumnElement[int]:
    """Whole seconds since 1970-01-01T00:00:00Z, as 64-bit integers: differences of them are
    multiplied (percentages of a time window) and 32 bits overflow."""
    # The field is written into the SQL, not bound: PostgreSQL then plans it as a constant
    # instead of parsing a parameter on every row.
    if dialect == "postgresql":
        return cast(func.floor(func.date_part(literal_column("'epoch'"), column)), BigInteger)
    return cast(func.strftime(literal_column("'%s'"), column), BigInteger)


def iso_utc(column: Any, dialect: str) -> ColumnElement[str]:
    """ISO 8601 in UTC to the second, e.g. 2026-11-26T04:05:06Z (NULL stays NULL)."""
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", column), ISO_UTC_PG)
    return func.strftime(ISO_UTC_SQLITE, column)


def from_epoch_hour(hour: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(hour * 3600, dt.UTC)
