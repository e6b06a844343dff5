"""Bounding boxes: a lon/lat rectangle, edges and corners included, nothing outside it."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import Database
from app.models import Issue
from app.spatial import BBox
from tests.factories import make_category, make_user
from tests.spatial.helpers import place_issues

WEST, SOUTH, EAST, NORTH = 100.50, 13.70, 100.55, 13.75
MID_LON, MID_LAT = 100.525, 13.725

INSIDE = {
    "centre": (MID_LON, MID_LAT),
    "south-west corner": (WEST, SOUTH),
    "south-east corner": (EAST, SOUTH),
    "north-east corner": (EAST, NORTH),
    "north-west corner": (WEST, NORTH),
    "on the west edge": (WEST, MID_LAT),
    "on the east edge": (EAST, MID_LAT),
    "on the south edge": (MID_LON, SOUTH),
    "on the north edge": (MID_LON, NORTH),
}
# 1e-7 degrees is about a centimetre: closer than a float32 index box can tell apart.
OUTSIDE = {
    f"{offset:g} degrees {side}": point
    for offset in (1e-7, 1e-5, 1e-3)
    for side, point in {
        "west of the west edge": (WEST - offset, MID_LAT),
        "east of the east edge": (EAST + offset, MID_LAT),
        "south of the south edge": (MID_LON, SOUTH - offset),
        "north of the north edge": (MID_LON, NORTH + offset),
        "beyond the north-east corner": (EAST + offset, NORTH + offset),
    }.items()
}


def _ids_in(db: Session, database: Database, bbox: BBox) -> set[str]:
    return set(db.scalars(select(Issue.public_id).where(database.spatial.within_bbox(bbox))))


def test_bbox_contains_its_edges_and_corners_and_nothing_beyond_them(
    db: Session, database: Database
) -> None:
    points = {**INSIDE, **OUTSIDE}
    placed = place_issues(
        db,
        database.spatial,
        reporter=make_user(db),
        category=make_category(db),
        points=points.values(),
    )
    name_of = dict(zip(placed, points, strict=True))
    found = {name_of[i] for i in _ids_in(db, database, BBox(WEST, SOUTH, EAST, NORTH))}
    assert found == set(INSIDE)


@pytest.mark.parametrize(
    ("bbox", "expected"),
    [
        pytest.param(
            BBox(WEST, SOUTH, WEST, NORTH), {"west edge", "corner"}, id="a meridian segment"
        ),
        pytest.param(BBox(WEST, SOUTH, WEST, SOUTH), {"corner"}, id="a single point"),
        pytest.param(
            BBox(-180, -90, 180, 90),
            {"west edge", "corner", "inside", "antimeridian", "north pole", "south pole"},
            id="the whole world",
        ),
        pytest.param(BBox(179.5, -1, 180, 1), {"antimeridian"}, id="up to the antimeridian"),
        pytest.param(BBox(-10, 89, 10, 90), {"north pole"}, id="up to the north pole"),
    ],
)
def test_degenerate_and_extreme_boxes(
    db: Session, database: Database, bbox: BBox, expected: set[str]
) -> None:
    points = {
        "west edge": (WEST, MID_LAT),
        "corner": (WEST, SOUTH),
        "inside": (MID_LON, MID_LAT),
        "antimeridian": (180.0, 0.0),
        "north pole": (0.0, 90.0),
        "south pole": (0.0, -90.0),
    }
    placed = place_issues(
        db,
        database.spatial,
        reporter=make_user(db),
        category=make_category(db),
        points=points.values(),
    )
    name_of = dict(zip(placed, points, strict=True))
    assert {name_of[i] for i in _ids_in(db, database, bbox)} == expected
