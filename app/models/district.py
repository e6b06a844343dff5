"""Districts: the administrative areas statistics are broken down by."""

from __future__ import annotations

from shapely.geometry import MultiPolygon
from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, TimestampMixin
from app.models.types import MultiPolygonType


class District(IdMixin, TimestampMixin, Base):
    __tablename__ = "district"

    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_th: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    # Every language the city gave; name_th / name_en fall back to the city's default language.
    names: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # Whom to call here in an emergency (else the city's, CIVICLOOP_EMERGENCY_NUMBER).
    emergency_number: Mapped[str | None] = mapped_column(String(32))
    # Deferred: an issue loads its district's code and names, never the polygon.
    area: Mapped[MultiPolygon] = mapped_column(MultiPolygonType(), deferred=True)


# A new issue asks "which district covers this point": GiST on PostGIS; SQLite tests in Shapely.
Index("ix_district_area", District.area, postgresql_using="gist").ddl_if(dialect="postgresql")
