"""The only code that knows which database does the geometry.

Both backends answer with the same semantics: positions are WGS84 lon/lat, bounding boxes are
lon/lat rectangles (edges included), distances are great circles on the sphere PostGIS uses for
`ST_DistanceSphere` with SRID 4326 (mean radius of WGS84), and jurisdictions cover their edges.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import ColumnElement, Engine, Select
from sqlalchemy.orm import Session

from app.models.types import LonLat

if TYPE_CHECKING:
    from app.spatial.tiles import Tile

# (2a + b) / 3 of WGS84: the radius PostGIS derives for ST_DistanceSphere on SRID 4326.
EARTH_RADIUS_M = 6_371_008.771_415_059


@dataclass(frozen=True, slots=True)
class BBox:
    west: float
    south: float
    east: float
    north: float


def enclosing_bbox(center: LonLat, radius_m: float) -> BBox:
    """A lon/lat rectangle that surely contains every point within radius_m of center."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M) * 1.001
    north = min(center.lat + dlat, 90.0)
    south = max(center.lat - dlat, -90.0)
    widest = max(abs(north), abs(south))
    if widest >= 89.9:
        return BBox(-180.0, south, 180.0, north)
    dlon = dlat / math.cos(math.radians(widest))
    west, east = center.lon - dlon, center.lon + dlon
    if west < -180.0 or east > 180.0:
        # The circle crosses the antimeridian: points on the far side have longitudes near the
        # other end of the range. Out in the Pacific, every longitude is cheap enough.
        return BBox(-180.0, south, 180.0, north)
    return BBox(west, south, east, north)


def great_circle_m(a: LonLat, b: LonLat) -> float:
    """Haversine distance in metres, on the same sphere as the databases."""
    lat1, lat2 = math.radians(a.lat), math.radians(b.lat)
    dlat = lat2 - lat1
    dlon = math.radians(b.lon - a.lon)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


class SpatialBackend(Protocol):
    """Filters and orderings on `Issue.location`, and jurisdiction look-ups."""

    name: str

    def within_radius(self, center: LonLat, radius_m: float) -> ColumnElement[bool]: ...

    def within_bbox(self, bbox: BBox) -> ColumnElement[bool]: ...

    def distance_m(self, center: LonLat) -> ColumnElement[float]: ...

    def point_tile(self, session: Session, *, tile: Tile, layer: str, rows: Select[Any]) -> bytes:
        """A Mapbox Vector Tile of one layer: a point per issue of `rows` (whose columns are the
        features' properties), in `tile` pixels; nothing for no rows."""
        ...

    def lon_lat(self) -> tuple[ColumnElement[float], ColumnElement[float]]:
        """The issue's longitude and latitude as numbers."""
        ...

    def covering_agency_ids(
        self, session: Session, *, point: LonLat, category_id: int
    ) -> list[int]:
        """Active agencies whose jurisdiction covers the point and that handle the category."""
        ...

    def covering_category_ids(self, session: Session, *, point: LonLat) -> set[int]:
        """Categories some active agency covering the point handles."""
        ...

    def district_id_at(self, session: Session, *, point: LonLat) -> int | None:
        """The district covering the point (edges included). On a shared border, or where
        districts overlap, the one whose code sorts first (byte order): the same answer on both
        databases, whatever order the districts were loaded in."""
        ...


def backend_for(engine: Engine) -> SpatialBackend:
    if engine.dialect.name == "postgresql":
        from app.spatial.postgis import PostgisBackend

        return PostgisBackend()
    from app.spatial.sqlite import SqliteBackend

    return SqliteBackend()
