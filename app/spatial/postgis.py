"""PostGIS: GiST-indexed `&&` to find candidates, exact sphere distance to decide."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, literal_column, select
from sqlalchemy.orm import Session

from app.models import Agency, District, Issue, agency_category
from app.models.types import WGS84, LonLat
from app.spatial import BBox, enclosing_bbox
from app.spatial.tiles import BUFFER, EXTENT, Tile

WEB_MERCATOR = 3857


def _point(p: LonLat) -> Any:
    return func.ST_SetSRID(func.ST_MakePoint(p.lon, p.lat), WGS84)


def _envelope(b: BBox) -> Any:
    return func.ST_MakeEnvelope(b.west, b.south, b.east, b.north, WGS84)


class PostgisBackend:
    name = "postgis"

    def within_radius(self, center: LonLat, radius_m: float) -> ColumnElement[bool]:
        return and_(
            Issue.location.op("&&")(_envelope(enclosing_bbox(center, radius_m))),
            func.ST_DistanceSphere(Issue.location, _point(center)) <= radius_m,
        )

    def within_bbox(self, bbox: BBox) -> ColumnElement[bool]:
        # `&&` (the GiST index) compares float32 boxes rounded outwards, so it admits points up to
        # a metre or two outside the edges: the coordinates decide. (ST_Intersects would misjudge
        # a degenerate box, whose envelope is not a valid polygon.)
        return and_(
            Issue.location.op("&&")(_envelope(bbox)),
            func.ST_X(Issue.location).between(bbox.west, bbox.east),
            func.ST_Y(Issue.location).between(bbox.south, bbox.north),
        )

    def distance_m(self, center: LonLat) -> ColumnElement[float]:
        return func.ST_DistanceSphere(Issue.location, _point(center))

    def lon_lat(self) -> tuple[ColumnElement[float], ColumnElement[float]]:
        return func.ST_X(Issue.location), func.ST_Y(Issue.location)

    def point_tile(self, session: Session, *, tile: Tile, layer: str, rows: Select[Any]) -> bytes:
        envelope = func.ST_TileEnvelope(tile.z, tile.x, tile.y)
        geom = func.ST_AsMVTGeom(
            func.ST_Transform(Issue.location, WEB_MERCATOR), envelope, EXTENT, BUFFER, True
        )
        features = rows.add_columns(geom.label("geom")).subquery("t")
        query = select(func.ST_AsMVT(literal_column("t"), layer, EXTENT, "geom")).select_from(
            features
        )
        return bytes(session.scalar(query) or b"")

    def covering_agency_ids(
        self, session: Session, *, point: LonLat, category_id: int
    ) -> list[int]:
        query = (
            select(Agency.id)
            .join(agency_category, agency_category.c.agency_id == Agency.id)
            .where(
                agency_category.c.category_id == category_id,
                Agency.is_active,
                func.ST_Covers(Agency.jurisdiction, _point(point)),
            )
            .order_by(Agency.id)
        )
        return list(session.scalars(query))

    def covering_category_ids(self, session: Session, *, point: LonLat) -> set[int]:
        query = (
            select(agency_category.c.category_id)
            .join(Agency, agency_category.c.agency_id == Agency.id)
            .where(Agency.is_active, func.ST_Covers(Agency.jurisdiction, _point(point)))
        )
        return set(session.scalars(query))

    def district_id_at(self, session: Session, *, point: LonLat) -> int | None:
        return session.scalar(
            select(District.id)
            .where(func.ST_Covers(District.area, _point(point)))
            # Byte order, as SQLite's default collation: the same district on both databases.
            .order_by(District.code.collate("C"))
            .limit(1)
        )
