"""Districts for a map: `?zoom=` ships each outline as a web map at that zoom can draw it (fewer
vertices, fewer decimals, a valid polygon within a pixel of the truth); without it, the full
geometry as stored."""

from __future__ import annotations

import math
import re
from typing import Any

import httpx
import pytest
import shapely
from shapely.geometry import MultiPolygon, shape
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import Role
from tests.factories import bearer, make_user

CENTRE = (100.52, 13.74)


def _wiggly_ring(radius: float, vertices: int, centre: tuple[float, float]) -> list[list[float]]:
    """A closed ring with detail at every scale, like a surveyed canal bank: a circle whose
    radius ripples at a few frequencies."""
    lon, lat = centre
    ring = []
    for n in range(vertices):
        angle = 2 * math.pi * n / vertices
        r = radius * (1 + 0.03 * math.sin(7 * angle) + 0.01 * math.sin(61 * angle))
        r += radius * 0.001 * math.sin(997 * angle)
        ring.append([round(lon + r * math.cos(angle), 7), round(lat + r * math.sin(angle), 7)])
    return [*ring, ring[0]]


# An outline of 4,000 surveyed points with a lake in it, and an islet ~30 m across.
DETAILED: dict[str, Any] = {
    "type": "MultiPolygon",
    "coordinates": [
        [_wiggly_ring(0.05, 4000, CENTRE), _wiggly_ring(0.01, 500, CENTRE)[::-1]],
        [_wiggly_ring(0.00015, 40, (100.58, 13.74))],
    ],
}


def _pixel_degrees(zoom: int) -> float:
    """A screen pixel at a web-map zoom (256-pixel tiles), in degrees of latitude here."""
    return 360 / (256 * 2.0**zoom) * math.cos(math.radians(13.80))


def _decimals(text: str) -> int:
    return max(len(d) for d in re.findall(r"\.(\d+)", text))


@pytest.fixture
async def detailed(client: httpx.AsyncClient, db: Session, settings: Settings) -> MultiPolygon:
    admin = bearer(settings, make_user(db, Role.admin))
    feature = {
        "type": "Feature",
        "id": "riverside",
        "geometry": DETAILED,
        "properties": {"names": {"en": "Riverside", "th": "ริมน้ำ"}},
    }
    put = await client.put("/api/v1/districts", headers=admin, json=feature)
    assert put.status_code == 200, put.text
    return MultiPolygon(shape(DETAILED))


# A city fills a screen around zoom 11; at 15 a pixel is ~4 m, and the survey's detail shows.
@pytest.mark.parametrize(("zoom", "share_of_bytes"), [(9, 0.01), (12, 0.05), (15, 0.6)])
async def test_a_map_gets_each_outline_valid_within_a_pixel_and_lighter(
    client: httpx.AsyncClient, detailed: MultiPolygon, zoom: int, share_of_bytes: float
) -> None:
    full = await client.get("/api/v1/districts")
    drawn = await client.get("/api/v1/districts", params={"zoom": str(zoom)})

    assert drawn.status_code == 200
    assert drawn.headers["content-type"] == "application/geo+json"
    (feature,) = drawn.json()["features"]
    assert feature["properties"] == full.json()["features"][0]["properties"]
    assert feature["geometry"]["type"] == "MultiPolygon"
    outline = shape(feature["geometry"])
    assert outline.is_valid, shapely.is_valid_reason(outline)
    for part, truth in zip(outline.geoms, detailed.geoms, strict=False):
        assert shapely.hausdorff_distance(part, truth) <= _pixel_degrees(zoom)
    assert len(drawn.content) < len(full.content) * share_of_bytes
    # Coordinates carry the decimals a pixel can show there (~10 m at 12), not the survey's 7.
    assert _decimals(drawn.text) <= math.ceil(-math.log10(_pixel_degrees(zoom) / 2))


async def test_the_closer_the_zoom_the_more_detail_until_the_full_outline(
    client: httpx.AsyncClient, detailed: MultiPolygon
) -> None:
    outlines = {}
    for zoom in (8, 11, 14, 17, None):
        params = {} if zoom is None else {"zoom": str(zoom)}
        answer = await client.get("/api/v1/districts/riverside", params=params)
        assert answer.status_code == 200
        outlines[zoom] = MultiPolygon(shape(answer.json()["geometry"]))
    counts = [shapely.get_num_coordinates(outlines[z]) for z in (8, 11, 14, 17)]
    assert counts == sorted(counts)
    assert counts[-1] < shapely.get_num_coordinates(outlines[None])
    assert outlines[None].equals_exact(detailed, tolerance=0)
    # The lake shows at every zoom; the islet, a tenth of a pixel across at 8, not there.
    assert all(len(outlines[z].geoms[0].interiors) == 1 for z in (8, 11, 14, 17))
    assert [len(outlines[z].geoms) for z in (8, 11, 14, 17)] == [1, 2, 2, 2]


@pytest.mark.parametrize("zoom", ["-1", "23", "near"])
async def test_a_zoom_web_maps_do_not_have_is_refused_with_the_range(
    client: httpx.AsyncClient, zoom: str
) -> None:
    answer = await client.get("/api/v1/districts", params={"zoom": zoom})
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert "zoom" in answer.text
