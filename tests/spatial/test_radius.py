"""Radius search: exact great-circle distances on the sphere, wherever on Earth the centre is."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from app.db import Database
from app.models import Category, User
from tests.factories import make_category, make_user
from tests.geodesy import destination, haversine_m
from tests.spatial.helpers import distances, ids_within_radius, place_issues

RADIUS_M = 1000.0
BEARINGS = range(0, 360, 45)
# Distances from the centre along each bearing: inside, close to the circle, and outside it.
RINGS_M = (10.0, 500.0, 990.0, 999.9, 1000.1, 1010.0, 1500.0)

CENTRES = {
    "bangkok": (100.5018, 13.7563),
    "equator-prime-meridian": (0.0, 0.0),
    # Circles that cross the antimeridian: half their points have longitudes near -180.
    "antimeridian-east-side": (179.9995, 10.0),
    "antimeridian-west-side": (-179.9995, -10.0),
    "high-latitude": (25.0, 70.0),
    # Circles that contain a pole: points along some bearings pass over it.
    "near-north-pole": (30.0, 89.995),
    "north-pole": (0.0, 90.0),
    "near-south-pole": (-150.0, -89.995),
}


@pytest.fixture
def reporter(db: Session) -> User:
    return make_user(db)


@pytest.fixture
def category(db: Session) -> Category:
    return make_category(db)


def _ring(centre: tuple[float, float]) -> list[tuple[float, float]]:
    return [centre] + [destination(centre, b, d) for b in BEARINGS for d in RINGS_M]


@pytest.mark.parametrize("centre", CENTRES.values(), ids=CENTRES.keys())
def test_radius_finds_exactly_the_points_within_the_great_circle_distance(
    db: Session, database: Database, reporter: User, category: Category, centre: tuple[float, float]
) -> None:
    placed = place_issues(
        db, database.spatial, reporter=reporter, category=category, points=_ring(centre)
    )
    expected = {i for i, p in placed.items() if haversine_m(centre, p) <= RADIUS_M}
    # 1 centre + 8 bearings x 4 rings inside.
    assert len(expected) == 33
    assert ids_within_radius(db, database.spatial, centre, RADIUS_M) == expected


@pytest.mark.parametrize("centre", CENTRES.values(), ids=CENTRES.keys())
def test_distances_are_great_circle_metres_on_the_mean_earth_sphere(
    db: Session, database: Database, reporter: User, category: Category, centre: tuple[float, float]
) -> None:
    placed = place_issues(
        db, database.spatial, reporter=reporter, category=category, points=_ring(centre)
    )
    measured = distances(db, database.spatial, centre)
    for public_id, position in placed.items():
        assert measured[public_id] == pytest.approx(haversine_m(centre, position), abs=1e-6)


@pytest.mark.parametrize("centre", CENTRES.values(), ids=CENTRES.keys())
def test_a_point_one_millimetre_inside_is_found_and_one_millimetre_outside_is_not(
    db: Session, database: Database, reporter: User, category: Category, centre: tuple[float, float]
) -> None:
    points = [destination(centre, bearing, 997.0) for bearing in BEARINGS]
    placed = place_issues(db, database.spatial, reporter=reporter, category=category, points=points)
    for public_id, position in placed.items():
        exact = haversine_m(centre, position)
        assert public_id in ids_within_radius(db, database.spatial, centre, exact + 0.001)
        assert public_id not in ids_within_radius(db, database.spatial, centre, exact - 0.001)


def test_the_largest_radius_reaches_fifty_kilometres_and_no_further(
    db: Session, database: Database, reporter: User, category: Category
) -> None:
    centre = CENTRES["bangkok"]
    points = [destination(centre, b, d) for b in BEARINGS for d in (49_990.0, 50_010.0)]
    placed = place_issues(db, database.spatial, reporter=reporter, category=category, points=points)
    expected = {i for i, p in placed.items() if haversine_m(centre, p) <= 50_000}
    assert len(expected) == len(BEARINGS)
    assert ids_within_radius(db, database.spatial, centre, 50_000) == expected


def test_distance_across_the_antimeridian_takes_the_short_way(
    db: Session, database: Database, reporter: User, category: Category
) -> None:
    placed = place_issues(
        db, database.spatial, reporter=reporter, category=category, points=[(-179.999, 0.0)]
    )
    [public_id] = placed
    # 0.002 degrees of the equator, not 359.998.
    assert distances(db, database.spatial, (179.999, 0.0))[public_id] == pytest.approx(
        haversine_m((179.999, 0.0), (-179.999, 0.0)), abs=1e-6
    )
    assert haversine_m((179.999, 0.0), (-179.999, 0.0)) == pytest.approx(222.39, abs=0.01)
    assert ids_within_radius(db, database.spatial, (179.999, 0.0), 300) == {public_id}
