"""Is it already reported? Before posting, an app asks for open issues near the point in the same
or a related category, best match first, with nothing about who reported them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from tests.duplicates.conftest import Catalogue
from tests.factories import IN_WEST, make_issue
from tests.geodesy import destination, haversine_m
from tests.lifecycle.helpers import City, drive

SIMILAR = "/api/v1/issues/similar"
TITLE = "Deep pothole outside the school gate"


def near(metres: float) -> tuple[float, float]:
    return destination(IN_WEST, 90.0, metres)


def query(**params: Any) -> dict[str, Any]:
    return {"latitude": IN_WEST[1], "longitude": IN_WEST[0], "category": "pothole", **params}


async def test_open_issues_of_the_category_group_within_the_radius_best_match_first(
    client: httpx.AsyncClient,
    settings: Settings,
    database: Database,
    db: Session,
    city: City,
    catalogue: Catalogue,
) -> None:
    reporter = city.reporter

    def report(category: Any, metres: float, title: str) -> str:
        issue = make_issue(
            db, database.spatial, reporter=reporter, category=category, at=near(metres), title=title
        )
        return issue.public_id

    same = report(catalogue.pothole, 60, TITLE)
    related = report(catalogue.footpath, 20, "Paving slabs lifted by tree roots")
    report(catalogue.streetlight, 0, TITLE)  # another group: not a repeat of a pothole
    report(catalogue.pothole, 250, TITLE)  # outside the default 200 m
    done = report(catalogue.pothole, 10, TITLE)
    await drive(client, settings, city.agent, done, "resolved")

    response = await client.get(SIMILAR, params=query(title=TITLE))

    assert response.status_code == 200, response.text
    body = response.json()
    assert [item["id"] for item in body["items"]] == [same, related]
    assert body["radius_m"] == 200
    assert body["categories"] == ["footpath", "pothole"]
    first = body["items"][0]
    assert first["distance_m"] == pytest.approx(60, abs=0.5)
    assert first["supporter_count"] == 0
    assert first["score_parts"]["text"] == 1.0
    parts = first["score_parts"]
    assert first["score"] == pytest.approx(
        0.6 * parts["text"] + 0.25 * parts["distance"] + 0.15 * parts["recency"]
    )
    assert parts["distance"] == pytest.approx(1 - 60 / 200, abs=0.01)
    # Public: nothing about who reported it.
    assert "reporter" not in first
    assert str(reporter.email) not in response.text


async def test_a_wider_radius_and_a_limit(
    client: httpx.AsyncClient, database: Database, db: Session, city: City, catalogue: Catalogue
) -> None:
    ids = [
        make_issue(
            db, database.spatial, reporter=city.reporter, category=city.category, at=near(m)
        ).public_id
        for m in (100, 300, 600)
    ]
    wide = await client.get(SIMILAR, params=query(radius_m=700))
    assert [item["id"] for item in wide.json()["items"]] == ids
    assert all(
        item["distance_m"] == pytest.approx(haversine_m(IN_WEST, near(m)), abs=0.5)
        for item, m in zip(wide.json()["items"], (100, 300, 600), strict=True)
    )
    assert (
        len((await client.get(SIMILAR, params=query(radius_m=700, limit=2))).json()["items"]) == 2
    )


async def test_without_text_the_nearest_fresh_issue_ranks_first(
    client: httpx.AsyncClient, database: Database, db: Session, city: City, catalogue: Catalogue
) -> None:
    far, close = (
        make_issue(
            db, database.spatial, reporter=city.reporter, category=city.category, at=near(m)
        ).public_id
        for m in (150, 30)
    )
    items = (await client.get(SIMILAR, params=query())).json()["items"]
    assert [item["id"] for item in items] == [close, far]
    assert {item["score_parts"]["text"] for item in items} == {0.0}


async def test_supporters_are_counted_on_each_item(
    client: httpx.AsyncClient, database: Database, db: Session, city: City, catalogue: Catalogue
) -> None:
    issue_id = make_issue(
        db, database.spatial, reporter=city.reporter, category=city.category, at=near(5)
    ).public_id
    for n in range(2):
        device = {"X-Device-Id": f"a-phone-with-a-long-secret-id-{n:04d}"}
        assert (await client.post(f"/api/v1/issues/{issue_id}/support", headers=device)).is_success
    items = (await client.get(SIMILAR, params=query())).json()["items"]
    assert items[0]["supporter_count"] == 2


@pytest.mark.parametrize(
    ("params", "location"),
    [
        ({"latitude": None}, "query.latitude"),
        ({"longitude": 181}, "query.longitude"),
        ({"category": None}, "query.category"),
        ({"category": "no-such-category"}, "query.category"),
        ({"radius_m": 5000}, "query.radius_m"),
        ({"radius_m": 0}, "query.radius_m"),
        ({"limit": 0}, "query.limit"),
        ({"limit": 51}, "query.limit"),
        ({"title": "x" * 5001}, "query.title"),
    ],
)
async def test_bad_queries_name_the_parameter(
    client: httpx.AsyncClient, city: City, params: dict[str, Any], location: str
) -> None:
    sent = {k: v for k, v in query(**params).items() if v is not None}
    response = await client.get(SIMILAR, params=sent)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert location in [e["location"] for e in response.json()["errors"]]
