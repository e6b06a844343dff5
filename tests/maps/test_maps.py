"""Map tiles and hexagon counts against issues at known positions; the per-cell counts the
trigger keeps agree with a recount from scratch after every kind of change."""

from __future__ import annotations

from collections import Counter
from typing import Any

import h3
import httpx
import mapbox_vector_tile
import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app.db import Database
from app.models import Category, Issue, IssueCellCount, IssueStatus, User
from app.services import maps
from app.spatial import SpatialBackend
from app.spatial.tiles import Tile
from tests.factories import make_category, make_issue, make_user

MVT = "application/vnd.mapbox-vector-tile"
# Around Silom: two in one street-zoom tile, one a few hundred metres off, one across the city.
HERE, NEXT_DOOR, A_STREET_AWAY, ACROSS_TOWN = (
    (100.5290, 13.7262),
    (100.5292, 13.7263),
    (100.5390, 13.7300),
    (100.6100, 13.8000),
)
BBOX = "100.40,13.60,100.70,13.90"


@pytest.fixture
def spatial(database: Database) -> SpatialBackend:
    return database.spatial


@pytest.fixture
def placed(db: Session, spatial: SpatialBackend) -> dict[str, Any]:
    reporter = make_user(db)
    light, hole = make_category(db, "streetlight"), make_category(db, "pothole")
    issues = [
        make_issue(db, spatial, reporter=reporter, category=light, at=HERE),
        make_issue(db, spatial, reporter=reporter, category=hole, at=NEXT_DOOR),
        make_issue(db, spatial, reporter=reporter, category=light, at=A_STREET_AWAY),
        make_issue(db, spatial, reporter=reporter, category=hole, at=ACROSS_TOWN),
    ]
    return {"issues": issues, "reporter": reporter, "light": light, "hole": hole}


def centre(cell: str) -> tuple[float, float]:
    lat, lon = h3.cell_to_latlng(cell)
    return lon, lat


def tile_at(lon: float, lat: float, z: int) -> Tile:
    x, y = Tile(z, 0, 0).pixel(lon, lat)
    return Tile(z, int(x // 4096), int(y // 4096))


async def get_tile(client: httpx.AsyncClient, tile: Tile, **params: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/tiles/{tile.z}/{tile.x}/{tile.y}.mvt", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == MVT
    return dict(mapbox_vector_tile.decode(response.content, default_options={"y_coord_down": True}))


async def test_a_street_tile_carries_each_issue_where_it_is(
    client: httpx.AsyncClient, placed: dict[str, Any]
) -> None:
    tile = tile_at(*HERE, 16)
    layers = await get_tile(client, tile)
    features = layers["issues"]["features"]
    here, next_door = placed["issues"][:2]
    by_id = {f["properties"]["id"]: f for f in features}
    assert set(by_id) == {here.public_id, next_door.public_id}  # the others are outside
    assert by_id[here.public_id]["properties"] == {
        "id": here.public_id,
        "category": "streetlight",
        "status": "open",
    }
    x, y = tile.pixel(*HERE)
    px, py = by_id[here.public_id]["geometry"]["coordinates"]
    assert abs(px - x) <= 1
    assert abs(py - y) <= 1
    assert 0 <= px < 4096
    assert 0 <= py < 4096
    filtered = await get_tile(client, tile, category="pothole")
    assert [f["properties"]["id"] for f in filtered["issues"]["features"]] == [next_door.public_id]
    # A tile next to it holds neither, and an empty tile is empty.
    far = await client.get(f"/api/v1/tiles/16/{tile.x + 3}/{tile.y}.mvt")
    assert far.status_code == 200
    assert far.content == b""


async def test_tiles_are_cached_public_reads(
    client: httpx.AsyncClient, placed: dict[str, Any]
) -> None:
    tile = tile_at(*HERE, 11)
    path = f"/api/v1/tiles/{tile.z}/{tile.x}/{tile.y}.mvt"
    first = await client.get(path)
    assert first.headers["cache-control"].startswith("public, max-age=")
    again = await client.get(path, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


def cells_of(points: list[tuple[float, float]], resolution: int, bbox: str = BBOX) -> Counter[str]:
    """The points' cells at that resolution whose centre lies in the bbox, with their counts."""
    west, south, east, north = (float(v) for v in bbox.split(","))
    cells = Counter(h3.latlng_to_cell(lat, lon, resolution) for lon, lat in points)
    return Counter(
        {
            cell: n
            for cell, n in cells.items()
            if west <= h3.cell_to_latlng(cell)[1] <= east
            and south <= h3.cell_to_latlng(cell)[0] <= north
        }
    )


async def test_hexagons_count_the_issues_in_each_cell(
    client: httpx.AsyncClient, placed: dict[str, Any]
) -> None:
    everywhere = [HERE, NEXT_DOOR, A_STREET_AWAY, ACROSS_TOWN]
    streets = "100.52,13.72,100.545,13.735"
    for zoom, resolution, bbox in ((8, 5, BBOX), (11, 7, BBOX), (14, 9, streets)):
        response = await client.get("/api/v1/hexagons", params={"bbox": bbox, "zoom": zoom})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["resolution"] == resolution
        counted = {c["cell"]: c["count"] for c in body["cells"]}
        assert counted == cells_of(everywhere, resolution, bbox)
        assert counted
    # Filters: from the counts (category, status) and from the issues (a district-free words
    # filter is not kept by the counts): the same cells either way.
    lights = await client.get(
        "/api/v1/hexagons", params={"bbox": BBOX, "zoom": 11, "category": "streetlight"}
    )
    assert {c["cell"]: c["count"] for c in lights.json()["cells"]} == cells_of(
        [HERE, A_STREET_AWAY], 7
    )
    worded = await client.get(
        "/api/v1/hexagons", params={"bbox": BBOX, "zoom": 11, "q": "street light"}
    )
    assert {c["cell"]: c["count"] for c in worded.json()["cells"]} == cells_of(everywhere, 7)
    none = await client.get(
        "/api/v1/hexagons", params={"bbox": BBOX, "zoom": 11, "status": "resolved"}
    )
    assert none.json()["cells"] == []
    geojson = await client.get(
        "/api/v1/hexagons",
        params={"bbox": BBOX, "zoom": 8},
        headers={"Accept": "application/geo+json"},
    )
    features = geojson.json()["features"]
    assert sum(f["properties"]["count"] for f in features) == 4
    assert all(len(f["geometry"]["coordinates"][0]) == 7 for f in features)


async def test_a_city_tile_draws_hexagons_with_counts(
    client: httpx.AsyncClient, placed: dict[str, Any]
) -> None:
    tile = tile_at(*HERE, 11)
    features = (await get_tile(client, tile))["hexagons"]["features"]
    counted = {f["properties"]["cell"]: f["properties"]["count"] for f in features}
    inside = [
        p
        for p in (HERE, NEXT_DOOR, A_STREET_AWAY, ACROSS_TOWN)
        if tile_at(*centre(h3.latlng_to_cell(p[1], p[0], 7)), 11) == tile
    ]
    assert counted == cells_of(inside, 7)


@pytest.mark.parametrize(
    ("path", "where"),
    [
        ("/api/v1/tiles/23/0/0.mvt", "path.z"),
        ("/api/v1/tiles/2/1/1.mvt", "query.z"),  # a quarter of the world: too many hexagons
        ("/api/v1/hexagons?zoom=11", "query.bbox"),
        ("/api/v1/hexagons?zoom=14&bbox=100,13,101,14", "query.bbox"),
    ],
)
async def test_bad_tiles_and_areas_are_refused(
    client: httpx.AsyncClient, path: str, where: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert where in {e["location"] for e in response.json()["errors"]}


@pytest.mark.parametrize("path", ["/api/v1/tiles/3/8/0.mvt", "/api/v1/tiles/0/0/1.mvt"])
async def test_a_tile_past_the_edge_of_its_zooms_grid_does_not_exist(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def stored_counts(db: Session) -> set[tuple[Any, ...]]:
    c = IssueCellCount
    rows = db.execute(
        select(c.resolution, c.cell, c.day, c.category_id, c.status, c.agency_id, c.n)
    )
    return {tuple(row) for row in rows}


def test_counts_stay_exact_through_changes(
    db: Session, spatial: SpatialBackend, placed: dict[str, Any]
) -> None:
    here, next_door, away, across = placed["issues"]
    hole: Category = placed["hole"]
    reporter: User = placed["reporter"]
    here.status = IssueStatus.acknowledged
    next_door.category_id = hole.id
    away.is_private = True
    db.flush()
    db.execute(delete(Issue).where(Issue.id == across.id))
    make_issue(db, spatial, reporter=reporter, category=hole, at=ACROSS_TOWN)
    kept = stored_counts(db)
    # A bulk load leaves issues without a cell: the rebuild places them, as an insert would.
    db.execute(update(Issue).where(Issue.id == here.id).values(h3_cell=None))
    changed = db.scalar(select(Issue.updated_at).where(Issue.id == here.id))
    assert stored_counts(db) != kept
    assert maps.rebuild_cell_counts(db) == len(kept)
    assert stored_counts(db) == kept
    # Placing an issue is not a change of it.
    assert db.scalar(select(Issue.updated_at).where(Issue.id == here.id)) == changed
    # Three public issues, each counted once per kept resolution.
    assert sum(row[-1] for row in kept if row[0] == 7) == 3
