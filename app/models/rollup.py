"""Daily rollups of the published issues, kept by `services.rollups` (see there for how).

Dimensions not kept by a row's grain hold ALL (-1); an issue without an agency or a district
counts under NONE (0). Keys are never NULL, so each (grain, day, ...) is one primary-key row.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Date, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdType


class IssueDayRollup(Base):
    """Issues per local day: reported that day (by the day of report) and resolved that day
    (by the day of resolution), per current status."""

    __tablename__ = "issue_day_rollup"

    grain: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    category_id: Mapped[int] = mapped_column(IdType, primary_key=True)
    agency_id: Mapped[int] = mapped_column(IdType, primary_key=True)
    district_id: Mapped[int] = mapped_column(IdType, primary_key=True)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    reported: Mapped[int] = mapped_column(Integer)
    resolved: Mapped[int] = mapped_column(Integer)


class IssueDurationRollup(Base):
    """Times to acknowledge and to resolve, per local day of report, as a histogram of whole
    minutes: medians and percentiles from it are the raw computation's, to the minute."""

    __tablename__ = "issue_duration_rollup"

    grain: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    stage: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    category_id: Mapped[int] = mapped_column(IdType, primary_key=True)
    agency_id: Mapped[int] = mapped_column(IdType, primary_key=True)
    district_id: Mapped[int] = mapped_column(IdType, primary_key=True)
    minute: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)
    met: Mapped[int] = mapped_column(Integer)
