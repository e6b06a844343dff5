"""RFC 7946 GeoJSON in and out."""

from __future__ import annotations

import math
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping, shape

from app import i18n
from app.errors import FieldText, ValidationFailed
from app.models.types import LonLat
from app.schemas.problem import FieldProblem


def _invalid(location: str, message: str) -> ValidationFailed:
    return ValidationFailed(
        f"{location}: {message}",
        errors=[FieldProblem(location=location, message=message, code="invalid_geometry")],
    )


def parse_area(
    geometry: dict[str, Any], *, location: str, repairs: list[str] | None = None
) -> MultiPolygon:
    """A valid WGS84 Polygon or MultiPolygon, as a MultiPolygon. An invalid one is refused,
    unless the caller reports repairs (`repairs`, where the reason is added): then one whose
    repair is unambiguous (`_repaired`: a ring that crosses itself, a spike) is repaired."""
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
        reason = shapely.is_valid_reason(parsed)
        if repairs is None:
            raise _invalid(location, f"is not a valid polygon: {reason}")
        parsed = _repaired(parsed)
        if parsed is None:
            message = i18n.text("error.area.ambiguous", reason=reason)
            raise ValidationFailed(
                i18n.text("error.field", location=location, message=message),
                errors=[FieldText(location, message, "invalid_geometry")],
            )
        repairs.append(reason)
    return MultiPolygon([parsed]) if isinstance(parsed, Polygon) else parsed


def _polygons(geometry: shapely.Geometry) -> MultiPolygon:
    """The areas of a repair's result: lines and points left by collapsed parts carry none."""
    parts = getattr(geometry, "geoms", [geometry])
    polygons = [p for part in parts for p in getattr(part, "geoms", [part])]
    return MultiPolygon([p for p in polygons if isinstance(p, Polygon) and not p.is_empty])


def _repaired(area: Polygon | MultiPolygon) -> MultiPolygon | None:
    """The valid area an invalid one stands for, when there is no doubt which: shapely's two
    repairs (`make_valid` by linework and by structure) agree, and no hole adds land (a hole
    outside its shell, made valid, becomes an island). Otherwise None: a doubly covered loop,
    overlapping parts or a hole across its shell could mean more than one area."""
    by_linework = _polygons(shapely.make_valid(area, method="linework"))
    by_structure = _polygons(shapely.make_valid(area, method="structure", keep_collapsed=False))
    if by_linework.is_empty or not shapely.equals(by_linework, by_structure):
        return None
    shells = [Polygon(p.exterior) for p in getattr(area, "geoms", [area])]
    land = shapely.union_all([_polygons(shapely.make_valid(s)) for s in shells])
    if not shapely.covers(land, by_structure):
        return None
    return by_structure


def point_geometry(point: LonLat) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [point.lon, point.lat]}


def area_geometry(area: MultiPolygon) -> dict[str, Any]:
    return dict(mapping(area))


# Web maps' zoom levels (256-pixel tiles); at 22 a pixel is ~4 cm, finer than any boundary.
MAX_ZOOM = 22


def degrees_per_pixel(zoom: int, latitude: float) -> float:
    """How many degrees a screen pixel spans at a Web Mercator zoom level and latitude, along
    its shorter side: in latitude, which Mercator stretches by 1/cos(latitude)."""
    return 360 / (256 * 2.0**zoom) * math.cos(math.radians(min(abs(latitude), 85.0)))


def display_area(area: MultiPolygon, zoom: int) -> MultiPolygon:
    """The area as a map at `zoom` can show it, the way map servers ship outlines: simplified
    (Douglas-Peucker, each polygon's topology kept) so no vertex moves more than half a pixel,
    then coordinates rounded to the power of ten under that half pixel (RFC 7946 §11.2: fewer
    decimals, smaller text). No point ends more than a pixel from the true outline, and the
    result is still a valid MultiPolygon. A part too small to show at that zoom is dropped,
    unless it is all there is (it then keeps its simplified, unrounded shape)."""
    _, south, _, north = area.bounds
    half_pixel = degrees_per_pixel(zoom, max(abs(south), abs(north))) / 2
    simplified = shapely.simplify(area, half_pixel, preserve_topology=True)
    grid = 10.0 ** math.floor(math.log10(half_pixel))
    rounded = shapely.set_precision(simplified, grid)
    polygons = [g for g in shapely.get_parts(rounded) if isinstance(g, Polygon) and not g.is_empty]
    if not polygons:
        return MultiPolygon(list(shapely.get_parts(simplified)))
    return MultiPolygon(polygons)
