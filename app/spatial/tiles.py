"""Web-map tiles (XYZ, Web Mercator, as ST_TileEnvelope): their extent and pixel coordinates."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import mapbox_vector_tile
from shapely.geometry.base import BaseGeometry

from app.spatial import BBox

# Mapbox Vector Tile defaults, as ST_AsMVT and ST_AsMVTGeom use them.
EXTENT = 4096
BUFFER = 64


@dataclass(frozen=True, slots=True)
class Tile:
    z: int
    x: int
    y: int

    def bbox(self, buffer: int = 0) -> BBox:
        """The tile's lon/lat rectangle, widened by `buffer` of its EXTENT pixels on each side."""
        n = 1 << self.z
        margin = buffer / EXTENT
        west, east = self.x - margin, self.x + 1 + margin
        north, south = self.y - margin, self.y + 1 + margin

        def lon(t: float) -> float:
            return max(-180.0, min(180.0, t / n * 360.0 - 180.0))

        def lat(t: float) -> float:
            t = max(0.0, min(float(n), t))
            return float(math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * t / n)))))

        return BBox(lon(west), lat(south), lon(east), lat(north))

    def pixel(self, lon: float, lat: float) -> tuple[float, float]:
        """Where the position falls in the tile's EXTENT × EXTENT grid (y down, as in MVT)."""
        n = 1 << self.z
        phi = math.radians(lat)
        tx = (lon + 180.0) / 360.0 * n
        ty = (1 - math.log(math.tan(phi) + 1 / math.cos(phi)) / math.pi) / 2 * n
        return (tx - self.x) * EXTENT, (ty - self.y) * EXTENT


def encode(layer: str, features: Sequence[tuple[BaseGeometry, Mapping[str, object]]]) -> bytes:
    """One MVT layer of features already in tile pixels; no features, no bytes (as ST_AsMVT)."""
    if not features:
        return b""
    return bytes(
        mapbox_vector_tile.encode(
            [
                {
                    "name": layer,
                    "features": [
                        {
                            "geometry": geometry,
                            "properties": {k: v for k, v in props.items() if v is not None},
                        }
                        for geometry, props in features
                    ],
                }
            ],
            default_options={"extents": EXTENT, "y_coord_down": True},
        )
    )
