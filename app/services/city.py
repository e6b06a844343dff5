"""The city this deployment serves, as `civicloop city apply` set it."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import City


def time_zone(session: Session, *, fallback: str) -> ZoneInfo:
    """The city's time zone (its file's `time_zone`): local days, hours and dates (statistics,
    Open311 and SeeClickFix times, pages, messages) are the city's. Before a city file was
    applied, `fallback` (a setting)."""
    name = session.scalar(select(City.time_zone).order_by(City.id).limit(1))
    return ZoneInfo(name or fallback)
