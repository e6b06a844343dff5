"""RFC 7946 GeoJSON in and out."""

from __future__ import annotations

from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping, shape

from app.errors import ValidationFailed
from app.models.types import LonLat
from app.schemas.problem import FieldProblem


def _invalid(location: str, message: str) -> ValidationFailed:
    return ValidationFailed(
        f"{location}: {message}",
        errors=[FieldProblem(location=location, message=message, code="invalid_geometry")],
    )


def parse_area(geometry: dict[str, Any], *, location: str) -> MultiPolygon:
    """A valid WGS84 Polygon or MultiPolygon, as a MultiPolygon."""
    if geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise _invalid(location, "must be a GeoJSON Polygon or MultiPolygon")
    if "coordinates" not in geometry:
        raise _invalid(location, "has no coordinates")
    try:
        # Positions may carry an altitude (RFC 7946 3.1.1); a jurisdiction is an area on the map.
        parsed = shapely.force_2d(shape(geometry))
    except (ValueError, TypeError, AttributeError, IndexError, shapely.errors.GEOSException) as exc:
        raise _invalid(location, f"is not valid GeoJSON coordinates ({exc})") from None
    if parsed.is_empty:
        raise _invalid(location, "is empty")
    polygons = parsed.geoms if isinstance(parsed, MultiPolygon) else [parsed]
    if any(hole.is_empty for polygon in polygons for hole in polygon.interiors):
        raise _invalid(location, "has an empty ring; a ring needs at least four positions")
    west, south, east, north = parsed.bounds
    if west < -180 or east > 180 or south < -90 or north > 90:
        raise _invalid(location, "has coordinates outside WGS84 longitude/latitude ranges")
    if not parsed.is_valid:
        raise _invalid(location, f"is not a valid polygon: {shapely.is_valid_reason(parsed)}")
    return MultiPolygon([parsed]) if isinstance(parsed, Polygon) else parsed


def point_geometry(point: LonLat) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [point.lon, point.lat]}


def area_geometry(area: MultiPolygon) -> dict[str, Any]:
    return dict(mapping(area))
