"""SQLite: an R*Tree of issue positions finds candidates, exact great-circle distance decides.

The R*Tree is kept in step with `issue.location` by triggers (see the initial migration) that call
the SQL functions registered here on every connection of our engine.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import struct
from typing import Any

import shapely
from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    Column,
    ColumnElement,
    Float,
    Integer,
    MetaData,
    Select,
    Table,
    and_,
    func,
    select,
)
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.models import Agency, District, Issue, agency_category
from app.models.types import LonLat
from app.spatial import BBox, enclosing_bbox, great_circle_m
from app.spatial.tiles import Tile, encode

# Not part of the ORM metadata: Alembic must not try to manage a virtual table.
RTREE_TABLE = "issue_location_rtree"
issue_location_rtree = Table(
    RTREE_TABLE,
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("min_lon", Float),
    Column("max_lon", Float),
    Column("min_lat", Float),
    Column("max_lat", Float),
)

_WKB_POINT_LE = struct.Struct("<BIdd")


def _lon_lat(wkb: bytes) -> tuple[float, float]:
    byte_order, geometry_type, lon, lat = _WKB_POINT_LE.unpack(wkb)
    if byte_order != 1 or geometry_type != 1:
        raise ValueError("not a little-endian WKB point")
    return lon, lat


def _lon(wkb: bytes) -> float:
    return _lon_lat(wkb)[0]


def _lat(wkb: bytes) -> float:
    return _lon_lat(wkb)[1]


def _distance_m(wkb: bytes, lon: float, lat: float) -> float:
    here = _lon_lat(wkb)
    return great_circle_m(LonLat(*here), LonLat(lon, lat))


def register_functions(connection: sqlite3.Connection) -> None:
    connection.create_function("civicloop_lon", 1, _lon, deterministic=True)
    connection.create_function("civicloop_lat", 1, _lat, deterministic=True)
    connection.create_function("civicloop_distance_m", 3, _distance_m, deterministic=True)


def _candidates(bbox: BBox) -> ColumnElement[bool]:
    # R*Tree boxes are float32 rounded outwards: an overlap test never misses a point.
    rtree = issue_location_rtree.c
    return Issue.id.in_(
        select(rtree.id).where(
            rtree.max_lon >= bbox.west,
            rtree.min_lon <= bbox.east,
            rtree.max_lat >= bbox.south,
            rtree.min_lat <= bbox.north,
        )
    )


class _PreparedAreas:
    """One table's polygons, parsed and prepared once per change of their row instead of on every
    look-up: a city's districts are megabytes of WKB, and an import asks for each of its rows."""

    def __init__(self, area: InstrumentedAttribute[MultiPolygon]) -> None:
        self.area = area
        self.model = area.class_
        self._by_id: dict[int, tuple[dt.datetime, BaseGeometry]] = {}

    def covering(
        self, session: Session, rows: list[tuple[int, dt.datetime]], here: shapely.Point
    ) -> list[int]:
        """The ids of `rows` (id, updated_at), in their order, whose polygon covers the point."""
        stale = [i for i, changed in rows if i not in self._by_id or self._by_id[i][0] != changed]
        if stale:
            query = select(self.model.id, self.model.updated_at, self.area).where(
                self.model.id.in_(stale)
            )
            for i, changed, area in session.execute(query):
                shapely.prepare(area)
                self._by_id[i] = (changed, area)
        return [i for i, _ in rows if self._by_id[i][1].covers(here)]


class SqliteBackend:
    name = "sqlite"

    def __init__(self) -> None:
        self._jurisdictions = _PreparedAreas(Agency.jurisdiction)
        self._districts = _PreparedAreas(District.area)

    def within_radius(self, center: LonLat, radius_m: float) -> ColumnElement[bool]:
        return and_(
            _candidates(enclosing_bbox(center, radius_m)),
            self.distance_m(center) <= radius_m,
        )

    def within_bbox(self, bbox: BBox) -> ColumnElement[bool]:
        return and_(
            _candidates(bbox),
            func.civicloop_lon(Issue.location).between(bbox.west, bbox.east),
            func.civicloop_lat(Issue.location).between(bbox.south, bbox.north),
        )

    def distance_m(self, center: LonLat) -> ColumnElement[float]:
        return func.civicloop_distance_m(Issue.location, center.lon, center.lat)

    def lon_lat(self) -> tuple[ColumnElement[float], ColumnElement[float]]:
        return func.civicloop_lon(Issue.location), func.civicloop_lat(Issue.location)

    def point_tile(self, session: Session, *, tile: Tile, layer: str, rows: Select[Any]) -> bytes:
        features = []
        for row in session.execute(rows.add_columns(*self.lon_lat())):
            *values, lon, lat = row
            # Snapped to the pixel grid as ST_AsMVTGeom does.
            x, y = tile.pixel(lon, lat)
            properties = {
                key: str(v) if v is not None else None
                for key, v in zip(row._fields, values, strict=False)
            }
            features.append((shapely.Point(round(x), round(y)), properties))
        return encode(layer, features)

    def covering_agency_ids(
        self, session: Session, *, point: LonLat, category_id: int
    ) -> list[int]:
        query = (
            select(Agency.id, Agency.updated_at)
            .join(agency_category, agency_category.c.agency_id == Agency.id)
            .where(agency_category.c.category_id == category_id, Agency.is_active)
            .order_by(Agency.id)
        )
        rows = [(i, changed) for i, changed in session.execute(query)]
        return self._jurisdictions.covering(session, rows, shapely.Point(point.lon, point.lat))

    def covering_category_ids(self, session: Session, *, point: LonLat) -> set[int]:
        query = select(Agency.id, Agency.updated_at).where(Agency.is_active)
        rows = [(i, changed) for i, changed in session.execute(query)]
        covering = self._jurisdictions.covering(session, rows, shapely.Point(point.lon, point.lat))
        return set(
            session.scalars(
                select(agency_category.c.category_id).where(
                    agency_category.c.agency_id.in_(covering)
                )
            )
        )

    def district_id_at(self, session: Session, *, point: LonLat) -> int | None:
        query = select(District.id, District.updated_at).order_by(District.code)
        rows = [(i, changed) for i, changed in session.execute(query)]
        covering = self._districts.covering(session, rows, shapely.Point(point.lon, point.lat))
        return covering[0] if covering else None
