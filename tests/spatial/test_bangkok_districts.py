"""Real districts, real report positions: both databases agree with Shapely on who covers what."""

from __future__ import annotations

import pytest
from shapely.geometry import Point, shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import Database
from app.demo import district_slug, load_demo_city
from app.models import Agency, Category, LonLat
from tests.spatial.bangkok import ACROSS_A_BORDER, OUTSIDE, WELL_INSIDE, Report, district_geometries

ALL_REPORTS = [*WELL_INSIDE, *(r for r, _ in ACROSS_A_BORDER), *OUTSIDE]
CITY_WIDE = {"flooding": "bma-drainage", "water-leak": "mwa", "power-lines": "mea"}


def shapely_districts(report: Report) -> list[str]:
    """The independent answer: every district polygon that covers the position."""
    here = Point(report.lon, report.lat)
    return [name for name, g in district_geometries().items() if shape(g).covers(here)]


def test_the_sample_is_what_it_says() -> None:
    assert len(district_geometries()) == 50
    for report in WELL_INSIDE:
        assert shapely_districts(report) == [report.recorded_district]
    for report, pinned_in in ACROSS_A_BORDER:
        assert shapely_districts(report) == [pinned_in] != [report.recorded_district]
    for report in OUTSIDE:
        assert shapely_districts(report) == []


@pytest.fixture
def demo_city(db: Session) -> dict[int, str]:
    """The demo city, loaded as `civicloop demo-data` does; agency id -> slug."""
    load_demo_city(db, password="not-used-in-these-tests")
    db.commit()
    return {a.id: a.slug for a in db.scalars(select(Agency))}


def _covering(db: Session, database: Database, report: Report, code: str) -> list[int]:
    category_id = db.scalars(select(Category.id).where(Category.code == code)).one()
    return database.spatial.covering_agency_ids(
        db, point=LonLat(report.lon, report.lat), category_id=category_id
    )


def test_a_district_category_goes_to_the_district_shapely_finds(
    db: Session, database: Database, demo_city: dict[int, str]
) -> None:
    found = {
        r.ticket: [demo_city[i] for i in _covering(db, database, r, "pothole")] for r in ALL_REPORTS
    }
    expected = {r.ticket: [district_slug(d) for d in shapely_districts(r)] for r in ALL_REPORTS}
    assert found == expected


@pytest.mark.parametrize("code", sorted(CITY_WIDE))
def test_city_wide_departments_cover_exactly_the_city(
    db: Session, database: Database, demo_city: dict[int, str], code: str
) -> None:
    found = {
        r.ticket: {demo_city[i] for i in _covering(db, database, r, code)} for r in ALL_REPORTS
    }
    expected: dict[str, set[str]] = {}
    for report in ALL_REPORTS:
        districts = shapely_districts(report)
        expected[report.ticket] = {CITY_WIDE[code]} if districts else set()
        if code == "flooding":  # district offices and the drainage department share floods
            expected[report.ticket] |= {district_slug(d) for d in districts}
    assert found == expected
