"""Jurisdictions cover their interior and their boundary, not their holes, every part of a
multipolygon, whatever the ring orientation."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.db import Database
from app.models import Category, LonLat
from tests.factories import make_agency
from tests.spatial.conftest import AddAgency


def _ring(*corners: tuple[float, float]) -> list[list[float]]:
    return [[x, y] for x, y in (*corners, corners[0])]


# RFC 7946 orientation: exterior rings counter-clockwise, holes clockwise.
SQUARE_WITH_HOLE: dict[str, Any] = {
    "type": "Polygon",
    "coordinates": [
        _ring((0, 0), (4, 0), (4, 4), (0, 4)),
        _ring((1, 1), (1, 3), (3, 3), (3, 1)),
    ],
}
TWO_ISLANDS: dict[str, Any] = {
    "type": "MultiPolygon",
    "coordinates": [
        [_ring((10, 0), (11, 0), (11, 1), (10, 1))],
        [_ring((12, 0), (13, 0), (13, 1), (12, 1))],
    ],
}
# Against RFC 7946's orientation; its parsers must not reject it, and neither do we.
CLOCKWISE: dict[str, Any] = {
    "type": "Polygon",
    "coordinates": [_ring((20, 0), (20, 1), (21, 1), (21, 0))],
}
TRIANGLE: dict[str, Any] = {"type": "Polygon", "coordinates": [_ring((30, 0), (32, 0), (31, 2))]}
# Overlaps the square's north-east corner: jurisdictions may overlap.
OVERLAP: dict[str, Any] = {
    "type": "Polygon",
    "coordinates": [_ring((3, 3), (5, 3), (5, 5), (3, 5))],
}

CASES = {
    "inside the square": ((2.0, 0.5), {"square"}),
    "on the square's west edge": ((0.0, 2.0), {"square"}),
    "on the square's south-west vertex": ((0.0, 0.0), {"square"}),
    "in the hole": ((2.0, 2.0), set()),
    "on the hole's edge": ((1.0, 2.0), {"square"}),
    "on the hole's corner, the overlap's corner": ((3.0, 3.0), {"square", "overlap"}),
    "where the square and the overlap meet": ((3.5, 3.5), {"square", "overlap"}),
    "only in the overlap": ((4.5, 4.5), {"overlap"}),
    "a hair east of the square": ((4.000_000_1, 0.5), set()),
    "in the first island": ((10.5, 0.5), {"islands"}),
    "in the second island": ((12.5, 0.5), {"islands"}),
    "on the second island's corner": ((13.0, 1.0), {"islands"}),
    "between the islands": ((11.5, 0.5), set()),
    "inside the clockwise square": ((20.5, 0.5), {"clockwise"}),
    "on the clockwise square's edge": ((21.0, 0.5), {"clockwise"}),
    "inside the triangle": ((31.0, 1.0), {"triangle"}),
    "on the triangle's base": ((31.0, 0.0), {"triangle"}),
    "on the triangle's apex": ((31.0, 2.0), {"triangle"}),
    "beside the triangle's apex": ((31.1, 2.0), set()),
    "far away": ((100.0, 13.0), set()),
}


async def test_jurisdiction_coverage(
    add_agency: AddAgency, db: Session, database: Database, category: Category
) -> None:
    ids: dict[int, str] = {}
    for slug, area in {
        "square": SQUARE_WITH_HOLE,
        "islands": TWO_ISLANDS,
        "clockwise": CLOCKWISE,
        "triangle": TRIANGLE,
        "overlap": OVERLAP,
    }.items():
        response = await add_agency(slug, area)
        assert response.status_code == 201, response.text
        ids[response.json()["id"]] = slug
    found: dict[str, set[str]] = {}
    for case, (point, _) in CASES.items():
        agency_ids = database.spatial.covering_agency_ids(
            db, point=LonLat(*point), category_id=category.id
        )
        assert agency_ids == sorted(agency_ids)
        found[case] = {ids[i] for i in agency_ids}
    assert found == {case: expected for case, (_, expected) in CASES.items()}


def test_only_agencies_handling_the_category_cover_for_it(
    db: Session, database: Database, category: Category
) -> None:
    handles = make_agency(db, bounds=(0, 0, 1, 1), categories=[category])
    make_agency(db, bounds=(0, 0, 1, 1), categories=[])
    found = database.spatial.covering_agency_ids(
        db, point=LonLat(0.5, 0.5), category_id=category.id
    )
    assert found == [handles.id]
