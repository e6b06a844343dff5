"""Jurisdiction geometries: what is refused gets a 422 problem naming the fault and writes
nothing; what is accepted is stored as a clean 2-D multipolygon and covers what it should."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from shapely.geometry import shape
from sqlalchemy.orm import Session

from app.db import Database
from app.models import Agency, Category, LonLat
from tests.factories import count
from tests.spatial.bangkok import district_geometries
from tests.spatial.conftest import AddAgency

SQUARE: list[list[float]] = [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]

REFUSED: dict[str, Any] = {
    "a bow tie (self-intersection)": {
        "type": "Polygon",
        "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]],
    },
    "a ring that touches itself at a vertex": {
        "type": "Polygon",
        "coordinates": [[[0, 0], [2, 0], [2, 2], [1, 0], [0, 2], [0, 0]]],
    },
    "a hole outside its shell": {
        "type": "Polygon",
        "coordinates": [SQUARE, [[2, 2], [3, 2], [3, 3], [2, 2]]],
    },
    "overlapping multipolygon parts": {
        "type": "MultiPolygon",
        "coordinates": [[SQUARE], [[[0.5, 0.5], [2, 0.5], [2, 2], [0.5, 0.5]]]],
    },
    "a ring of three positions": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]},
    "a ring with all positions equal": {
        "type": "Polygon",
        "coordinates": [[[0, 0], [0, 0], [0, 0], [0, 0]]],
    },
    "an empty hole": {"type": "Polygon", "coordinates": [SQUARE, []]},
    "no rings": {"type": "Polygon", "coordinates": []},
    "no coordinates member": {"type": "Polygon"},
    "coordinates that are not arrays": {"type": "Polygon", "coordinates": 5},
    "positions that are not numbers": {
        "type": "Polygon",
        "coordinates": [[["a", "b"], [1, 0], [1, 1], ["a", "b"]]],
    },
    "a position with one number": {"type": "Polygon", "coordinates": [[*SQUARE[:4], [0]]]},
    "a null position": {"type": "Polygon", "coordinates": [[*SQUARE[:4], None]]},
    "a longitude beyond 180": {
        "type": "Polygon",
        "coordinates": [[[179, 0], [181, 0], [181, 1], [179, 0]]],
    },
    "a latitude beyond 90": {
        "type": "Polygon",
        "coordinates": [[[0, 89], [1, 89], [1, 91], [0, 89]]],
    },
    "a point": {"type": "Point", "coordinates": [0, 0]},
    "a geometry collection": {"type": "GeometryCollection", "geometries": []},
    "a feature instead of a geometry": {
        "type": "Feature",
        "properties": {},
        "geometry": {"type": "Polygon", "coordinates": [SQUARE]},
    },
    "no type": {"coordinates": [SQUARE]},
}


async def test_an_invalid_jurisdiction_is_refused_with_a_problem(
    add_agency: AddAgency, db: Session
) -> None:
    found: dict[str, tuple[int, str, list[tuple[str, str]], bool]] = {}
    for case, jurisdiction in REFUSED.items():
        response = await add_agency("refused", jurisdiction)
        problem = response.json()
        found[case] = (
            response.status_code,
            response.headers["content-type"],
            [(e["location"], e["code"]) for e in problem.get("errors") or []],
            str(problem.get("detail")).startswith("body.jurisdiction: "),
        )
    refused = (422, "application/problem+json", [("body.jurisdiction", "invalid_geometry")], True)
    assert found == dict.fromkeys(REFUSED, refused)
    assert count(db, Agency) == 0


ACCEPTED: dict[str, tuple[dict[str, Any], Any]] = {
    # RFC 7946 positions may carry an altitude; a jurisdiction is a 2-D area.
    "altitudes": (
        {"type": "Polygon", "coordinates": [[[x, y, 12.5] for x, y in SQUARE]]},
        [[SQUARE]],
    ),
    # An unclosed ring is closed rather than refused.
    "an unclosed ring": ({"type": "Polygon", "coordinates": [SQUARE[:4]]}, [[SQUARE]]),
    "a clockwise exterior": (
        {"type": "Polygon", "coordinates": [SQUARE[::-1]]},
        [[SQUARE[::-1]]],
    ),
    "a repeated position": (
        {"type": "Polygon", "coordinates": [[*SQUARE[:2], *SQUARE[1:]]]},
        [[[*SQUARE[:2], *SQUARE[1:]]]],
    ),
    "a multipolygon whose parts touch at a corner": (
        {
            "type": "MultiPolygon",
            "coordinates": [[SQUARE], [[[1, 1], [2, 1], [2, 2], [1, 2], [1, 1]]]],
        },
        [[SQUARE], [[[1, 1], [2, 1], [2, 2], [1, 2], [1, 1]]]],
    ),
}


@pytest.mark.parametrize(("jurisdiction", "stored"), ACCEPTED.values(), ids=ACCEPTED.keys())
async def test_an_accepted_jurisdiction_is_stored_in_two_dimensions_and_routes(
    add_agency: AddAgency,
    client: httpx.AsyncClient,
    db: Session,
    database: Database,
    category: Category,
    jurisdiction: dict[str, Any],
    stored: Any,
) -> None:
    response = await add_agency("accepted", jurisdiction)
    assert response.status_code == 201, response.text
    agency_id = response.json()["id"]

    feature = (await client.get(f"/api/v1/agencies/{agency_id}/jurisdiction")).json()
    assert feature["geometry"]["type"] == "MultiPolygon"
    assert feature["geometry"]["coordinates"] == stored
    assert shape(feature["geometry"]).is_valid

    covering = database.spatial.covering_agency_ids
    assert covering(db, point=LonLat(0.5, 0.5), category_id=category.id) == [agency_id]
    assert covering(db, point=LonLat(1.0, 0.25), category_id=category.id) == [agency_id]
    assert covering(db, point=LonLat(-0.5, 0.5), category_id=category.id) == []


async def test_a_real_district_boundary_reads_back_unchanged(
    add_agency: AddAgency, client: httpx.AsyncClient
) -> None:
    geometry = district_geometries()["Bang Rak"]
    assert geometry["type"] == "Polygon"
    response = await add_agency("district-bang-rak", geometry)
    assert response.status_code == 201, response.text
    feature = (await client.get(f"/api/v1/agencies/{response.json()['id']}/jurisdiction")).json()
    # Every coordinate to the last bit, as a one-part multipolygon.
    assert feature["geometry"] == {"type": "MultiPolygon", "coordinates": [geometry["coordinates"]]}
