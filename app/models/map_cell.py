"""Issues counted per H3 cell: what maps at city and country zoom draw, without reading points.

Each issue stores the H3 cell of its point at `FINEST_RESOLUTION` (`issue.h3_cell`); a database
trigger (migration `map_cell_counts`) keeps `issue_cell_count` exact in the same statement as every
insert, update and delete of an issue: one row per coarser-or-equal resolution of `RESOLUTIONS`,
cell, UTC day of report, category, status and handling agency, counting the publicly visible
issues (as `issues.publicly_visible`: not hidden, not private, not held back by review).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import h3
from sqlalchemy import BigInteger, Date, Integer, SmallInteger, String
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base
from app.models.types import LonLat

# Kept in the table: 5 for a country (~250 km² cells), 7 for a city (~5 km²), 9 for a few
# streets (~0.1 km²); the resolutions between are sums of their children's counts.
RESOLUTIONS = (5, 7, 9)
FINEST_RESOLUTION = RESOLUTIONS[-1]
# agency_id of issues no agency handles yet (a primary key column cannot be NULL).
NO_AGENCY = 0


def cell_at(point: LonLat, resolution: int = FINEST_RESOLUTION) -> int:
    """The H3 cell (as a 64-bit integer) holding the point."""
    return int(h3.str_to_int(h3.latlng_to_cell(point.lat, point.lon, resolution)))


def parent_masks(resolution: int) -> tuple[int, int]:
    """(and_mask, or_mask): `(cell & and_mask) | or_mask` is the cell's parent at `resolution`
    (H3's index layout: 4 resolution bits at 52, then 3 bits per digit, unused digits all 1)."""
    return ~(15 << 52), (resolution << 52) | ((1 << (3 * (15 - resolution))) - 1)


def issue_cell_default(context: DefaultExecutionContext) -> int | None:
    # Every insert through SQLAlchemy (reports, imports, the demo) places its issue; bulk loads
    # that bypass it call `maps.rebuild_cell_counts`.
    location: Any = context.get_current_parameters().get("location")  # type: ignore[no-untyped-call]
    return cell_at(location) if isinstance(location, LonLat) else None


class IssueCellCount(Base):
    __tablename__ = "issue_cell_count"

    resolution: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    cell: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    category_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    agency_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)
