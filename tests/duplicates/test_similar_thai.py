"""Ranking on real Bangkok reports (Traffy Fondue, May 2023; see /work/shared/data/README.md):
people who reported a problem someone near by had already reported, in their own Thai words. With
every other report of the sample around it as a competing open issue, the earlier report of the
same problem ranks first. The sample is read at run time, never copied into the repository."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session

from app.db import Database
from app.models import Category
from tests.duplicates.conftest import Catalogue
from tests.factories import make_issue
from tests.geodesy import destination, haversine_m
from tests.lifecycle.helpers import City

TRAFFY = Path("/work/shared/data/traffy-fondue-bangkok-2023-05.csv")
pytestmark = pytest.mark.skipif(not TRAFFY.exists(), reason=f"{TRAFFY} is not here")
NEIGHBOURHOOD_M = 1000.0


@dataclass(frozen=True)
class Report:
    ticket: str
    at: tuple[float, float]
    comment: str

    @property
    def title(self) -> str:
        return self.comment.strip().splitlines()[0][:200]


@cache
def sample() -> dict[str, Report]:
    found = {}
    with TRAFFY.open(encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            lon, lat = (float(x) for x in row["coords"].split(","))
            if row["ticket_id"] and row["comment"].strip():
                found[row["ticket_id"]] = Report(row["ticket_id"], (lon, lat), row["comment"])
    return found


# (the earlier report, the later one of the same problem); their distance and what they say.
REPEATS = [
    # 136 m: "why leave the hole like this, it is dangerous" / "... like this, there are 2 holes"
    ("2023-FCEUAE", "2023-8PC946"),
    # 12 m: "no light at the bus stop, very dark" / "the light at the bus stop should be on"
    ("2023-E6P3NX", "2023-E2YVKB"),
    # 59 m: "please replace the drain covers in the Pan Thip community" / "... and dredge them"
    ("2023-8DNW6M", "2023-4ULKP3"),
    # 15 m: shin-deep flooding "for less than an hour" / "for less than a day"
    ("2023-LFKMCC", "2023-KZMKD3"),
    # 2 m, among ten "motorbikes ridden on the footpath" reports within 10 m: "a shop's sign
    # placed on the footpath" / "the Khanom Fu shop placed its sign on the footpath"
    ("2023-BFCGU4", "2023-6WYQCG"),
]


def seed(db: Session, database: Database, city: City, category: Category, report: Report) -> str:
    return make_issue(
        db,
        database.spatial,
        reporter=city.reporter,
        category=category,
        at=report.at,
        title=report.title,
        description=report.comment,
    ).public_id


@pytest.mark.parametrize(("first", "repeat"), REPEATS)
async def test_the_earlier_report_of_the_same_problem_ranks_first(
    client: httpx.AsyncClient,
    database: Database,
    db: Session,
    city: City,
    catalogue: Catalogue,
    first: str,
    repeat: str,
) -> None:
    reports = sample()
    new = reports[repeat]
    # Every report of the sample around it, all of one category: only the words and the
    # distance can tell them apart.
    ids = {
        ticket: seed(db, database, city, catalogue.pothole, report)
        for ticket, report in reports.items()
        if ticket != repeat and haversine_m(report.at, new.at) <= NEIGHBOURHOOD_M
    }
    # The same words in an unrelated category, and far away: never candidates.
    unrelated = seed(db, database, city, catalogue.streetlight, reports[first])
    far = seed(
        db,
        database,
        city,
        catalogue.pothole,
        Report("far", destination(new.at, 0, 3000), new.comment),
    )

    response = await client.get(
        "/api/v1/issues/similar",
        params={
            "latitude": new.at[1],
            "longitude": new.at[0],
            "category": "footpath",  # a related category of the same group
            "title": new.title,
            "description": new.comment,
        },
    )

    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert items[0]["id"] == ids[first], [(i["title"], i["score_parts"]) for i in items[:3]]
    assert items[0]["score_parts"]["text"] > 0.5
    assert not {unrelated, far} & {item["id"] for item in items}
