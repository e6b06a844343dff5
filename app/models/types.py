"""Column types that read and write the same Python values on PostgreSQL and SQLite.

PostGIS columns use GeoAlchemy2. This Python's sqlite3 cannot load SpatiaLite, so on SQLite the
same columns hold plain WKB and `app.spatial.sqlite` indexes points in an R*Tree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import shapely
from geoalchemy2 import Geometry
from shapely.geometry import MultiPolygon
from sqlalchemy import DateTime, LargeBinary
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

WGS84 = 4326


@dataclass(frozen=True, slots=True)
class LonLat:
    """A WGS84 position, longitude first as in GeoJSON."""

    lon: float
    lat: float

    @property
    def ewkt(self) -> str:
        return f"SRID={WGS84};POINT({self.lon!r} {self.lat!r})"


def _is_postgresql(dialect: Dialect | None) -> bool:
    # GeoAlchemy2's DDL hooks ask for the implementation without a dialect.
    return dialect is not None and dialect.name == "postgresql"


def _geometry_from_db(value: Any) -> shapely.Geometry:
    # GeoAlchemy2 hands back a WKBElement; psycopg may hand back hex EWKB; SQLite gives bytes.
    data = getattr(value, "data", value)
    if isinstance(data, memoryview):
        data = bytes(data)
    return shapely.from_wkb(data)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on both databases (SQLite stores no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class PointType(TypeDecorator[LonLat]):
    """A WGS84 point: PostGIS geometry(Point, 4326), or little-endian WKB on SQLite."""

    impl = LargeBinary
    cache_ok = True
    # Read by GeoAlchemy2's DDL hooks: we declare spatial indexes ourselves.
    spatial_index = False
    use_N_D_index = False

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if _is_postgresql(dialect):
            return Geometry("POINT", srid=WGS84, spatial_index=False)
        return LargeBinary()

    def process_bind_param(self, value: LonLat | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "postgresql":
            return value.ewkt
        return shapely.to_wkb(shapely.Point(value.lon, value.lat), byte_order=1)

    def process_result_value(self, value: Any, dialect: Dialect) -> LonLat | None:
        if value is None:
            return None
        point = _geometry_from_db(value)
        return LonLat(point.x, point.y)


class MultiPolygonType(TypeDecorator[MultiPolygon]):
    """A WGS84 multipolygon: PostGIS geometry(MultiPolygon, 4326), or WKB on SQLite."""

    impl = LargeBinary
    cache_ok = True
    # Read by GeoAlchemy2's DDL hooks: we declare spatial indexes ourselves.
    spatial_index = False
    use_N_D_index = False

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if _is_postgresql(dialect):
            return Geometry("MULTIPOLYGON", srid=WGS84, spatial_index=False)
        return LargeBinary()

    def process_bind_param(self, value: MultiPolygon | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "postgresql":
            return f"SRID={WGS84};{value.wkt}"
        return shapely.to_wkb(value, byte_order=1)

    def process_result_value(self, value: Any, dialect: Dialect) -> MultiPolygon | None:
        if value is None:
            return None
        geometry = _geometry_from_db(value)
        assert isinstance(geometry, MultiPolygon)
        return geometry
