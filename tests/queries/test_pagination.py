"""Keyset pagination: walking every page yields each issue once, in order, even when issues
arrive between pages; a cursor is tied to the query that made it; page sizes are bounded."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import Category, Issue, LonLat, Role, User
from app.services.issues import IssueFilter, Sort
from app.services.pagination import CursorCodec
from tests.factories import bearer, make_agency, make_category, make_user
from tests.geodesy import destination, haversine_m
from tests.lifecycle.helpers import problem_type
from tests.queries.catalogue import CENTRE, CITY
from tests.spatial.helpers import place_issues

BASE = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
NEAREST = {"lat": CENTRE[1], "lon": CENTRE[0], "radius": 10_000, "sort": "nearest"}


@pytest.fixture
def reporter(db: Session) -> User:
    return make_user(db)


@pytest.fixture
def category(db: Session) -> Category:
    return make_category(db, "pothole")


def _place(
    db: Session, database: Database, reporter: User, category: Category, points: list[Any]
) -> list[str]:
    """Issues in report order (so in the order of their internal ids)."""
    return list(
        place_issues(db, database.spatial, reporter=reporter, category=category, points=points)
    )


def _created_in_groups_of_three(db: Session, ids: list[str]) -> list[str]:
    """Give every three consecutive issues the same creation time; the newest-first order."""
    for n, public_id in enumerate(ids):
        db.execute(
            update(Issue)
            .where(Issue.public_id == public_id)
            .values(created_at=BASE + dt.timedelta(seconds=n // 3))
        )
    db.commit()
    # Later groups first; within a group, the higher id first.
    return sorted(ids, key=lambda i: (-(ids.index(i) // 3), -ids.index(i)))


async def walk(
    client: httpx.AsyncClient,
    params: dict[str, Any],
    limit: int,
    *,
    url: str = "/api/v1/issues",
    headers: dict[str, str] | None = None,
    between_pages: Any = None,
) -> list[list[dict[str, Any]]]:
    """Every page, following next_cursor; `between_pages()` runs after each page."""
    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while True:
        query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        response = await client.get(url, params=query, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body["items"])
        assert len(pages) < 100, "the walk does not end"
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert len(body["items"]) == limit
        if between_pages is not None:
            between_pages()


def _ids(pages: list[list[dict[str, Any]]]) -> list[str]:
    return [item["id"] for page in pages for item in page]


@pytest.mark.parametrize("limit", [1, 4, 23, 50])
async def test_newest_first_walks_every_issue_once_with_ties_broken_by_id(
    client: httpx.AsyncClient,
    db: Session,
    database: Database,
    reporter: User,
    category: Category,
    limit: int,
) -> None:
    ids = _place(db, database, reporter, category, [CENTRE] * 23)
    expected = _created_in_groups_of_three(db, ids)
    pages = await walk(client, {}, limit)
    assert _ids(pages) == expected
    # The last page is never empty: a full last page has no next_cursor.
    assert len(pages) == -(-23 // limit)
    assert all(pages)


@pytest.mark.parametrize("limit", [1, 3, 7])
async def test_nearest_first_walks_every_issue_once_with_ties_broken_by_id(
    client: httpx.AsyncClient,
    db: Session,
    database: Database,
    reporter: User,
    category: Category,
    limit: int,
) -> None:
    # Four spots, several issues at each: equal distances at a spot, and two spots at the same
    # distance in opposite directions.
    spots = [
        destination(CENTRE, 0, 250),
        destination(CENTRE, 90, 120),
        CENTRE,
        destination(CENTRE, 200, 3000),
    ]
    points = [spots[n % 4] for n in range(18)]
    ids = _place(db, database, reporter, category, points)
    expected = sorted(ids, key=lambda i: (haversine_m(CENTRE, points[ids.index(i)]), ids.index(i)))
    pages = await walk(client, NEAREST, limit)
    assert _ids(pages) == expected
    distances = [item["distance_m"] for page in pages for item in page]
    assert distances == sorted(distances)


async def test_issues_reported_between_pages_neither_repeat_nor_hide_others(
    client: httpx.AsyncClient,
    db: Session,
    database: Database,
    reporter: User,
    category: Category,
) -> None:
    ids = _place(db, database, reporter, category, [CENTRE] * 12)
    expected = _created_in_groups_of_three(db, ids)
    arrivals: list[str] = []

    def report_more() -> None:
        arrivals.extend(_place(db, database, reporter, category, [CENTRE] * 2))

    seen = _ids(await walk(client, {}, 5, between_pages=report_more))
    # New reports are newer than the cursor: the walk goes on with the issues it had not shown.
    assert seen == expected
    assert len(arrivals) == 4
    first_page = (await client.get("/api/v1/issues", params={"limit": 4})).json()["items"]
    assert [i["id"] for i in first_page] == arrivals[::-1]


async def test_nearest_walk_stays_whole_while_issues_arrive_nearer_and_farther(
    client: httpx.AsyncClient,
    db: Session,
    database: Database,
    reporter: User,
    category: Category,
) -> None:
    points = [destination(CENTRE, 10 * n, 100 * (n + 1)) for n in range(10)]
    ids = _place(db, database, reporter, category, points)

    nearer: list[str] = []
    farther: list[str] = []

    def report_more() -> None:
        near, far = _place(
            db, database, reporter, category, [CENTRE, destination(CENTRE, 45, 5000)]
        )
        nearer.append(near)
        farther.append(far)

    seen = _ids(await walk(client, NEAREST, 3, between_pages=report_more))
    # Issues reported nearer than the cursor's position are behind the walk and not shown; those
    # farther away come after every original one, in report order.
    assert seen == ids + farther
    assert len(farther) == 4


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param({"status": "open"}, {"status": "closed"}, id="another status"),
        pytest.param({}, {"q": "pothole"}, id="a text search added"),
        pytest.param({"bbox": "100,13,101,14"}, {"bbox": "100,13,101,14.5"}, id="another bbox"),
        pytest.param({}, NEAREST, id="newest to nearest"),
        pytest.param(NEAREST, {**NEAREST, "radius": 9999}, id="another radius"),
        pytest.param(NEAREST, {**NEAREST, "lat": 13.7}, id="another centre"),
    ],
)
async def test_a_cursor_used_with_other_filters_is_refused(
    client: httpx.AsyncClient,
    db: Session,
    database: Database,
    reporter: User,
    category: Category,
    first: dict[str, Any],
    second: dict[str, Any],
) -> None:
    _place(db, database, reporter, category, [CENTRE] * 3)
    page = await client.get("/api/v1/issues", params={**first, "limit": 1})
    cursor = page.json()["next_cursor"]
    assert cursor is not None
    response = await client.get("/api/v1/issues", params={**second, "cursor": cursor})
    assert response.status_code == 400
    assert problem_type(response) == "invalid-cursor"
    assert "same query parameters" in response.json()["detail"]


async def test_a_cursor_may_be_followed_with_another_page_size(
    client: httpx.AsyncClient, db: Session, database: Database, reporter: User, category: Category
) -> None:
    ids = _place(db, database, reporter, category, [CENTRE] * 6)
    expected = _created_in_groups_of_three(db, ids)
    first = (await client.get("/api/v1/issues", params={"limit": 2})).json()
    rest = await client.get("/api/v1/issues", params={"limit": 10, "cursor": first["next_cursor"]})
    assert [i["id"] for i in first["items"] + rest.json()["items"]] == expected


async def test_a_queue_cursor_works_only_in_that_queue(
    client: httpx.AsyncClient,
    db: Session,
    database: Database,
    settings: Settings,
    reporter: User,
    category: Category,
) -> None:
    city = make_agency(db, bounds=CITY, categories=[category], slug="city")
    metro = make_agency(db, bounds=CITY, categories=[category], slug="metro")
    admin = bearer(settings, make_user(db, Role.admin))
    ids = _place(db, database, reporter, category, [CENTRE] * 3)
    expected = _created_in_groups_of_three(db, ids)

    # Newest first, as the issue list (a queue's own order is tested in tests/work).
    newest = {"sort": "newest"}
    pages = await walk(client, newest, 2, url=f"/api/v1/agencies/{city.id}/queue", headers=admin)
    assert _ids(pages) == expected
    first = await client.get(
        f"/api/v1/agencies/{city.id}/queue", params={"limit": 1, **newest}, headers=admin
    )
    cursor = first.json()["next_cursor"]
    for url in (f"/api/v1/agencies/{metro.id}/queue", "/api/v1/issues"):
        response = await client.get(url, params={"cursor": cursor}, headers=admin)
        assert response.status_code == 400, url
        assert problem_type(response) == "invalid-cursor"


def _forged(key: Any, secret: str) -> str:
    return CursorCodec(secret).encode(scope="0" * 16, key=key)


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param("not-a-cursor", id="garbage"),
        pytest.param("", id="empty"),
        pytest.param("eyJzIjoiMCJ9.bad", id="a fake signature"),
        pytest.param(
            _forged(["2026-03-01T00:00:00+00:00", 1], "another-deployment-secret-0123456789abcdef"),
            id="signed by another deployment",
        ),
    ],
)
async def test_a_cursor_this_api_did_not_issue_is_refused(
    client: httpx.AsyncClient,
    db: Session,
    database: Database,
    reporter: User,
    category: Category,
    cursor: str,
) -> None:
    _place(db, database, reporter, category, [CENTRE] * 2)
    response = await client.get("/api/v1/issues", params={"cursor": cursor})
    assert response.status_code == 400, response.text
    assert problem_type(response) == "invalid-cursor"
    assert "not one this API issued" in response.json()["detail"]


async def test_a_tampered_cursor_is_refused(
    client: httpx.AsyncClient, db: Session, database: Database, reporter: User, category: Category
) -> None:
    _place(db, database, reporter, category, [CENTRE] * 3)
    cursor: str = (await client.get("/api/v1/issues", params={"limit": 1})).json()["next_cursor"]
    payload, signature = cursor.rsplit(".", 1)

    def flip(text: str, at: int) -> str:
        return text[:at] + ("B" if text[at] == "A" else "A") + text[at + 1 :]

    # (Not the last character: base64 leaves its low bits unused, so some edits there decode
    # to the very same signature.)
    for tampered in (
        f"{flip(payload, len(payload) // 2)}.{signature}",
        f"{payload}.{flip(signature, 5)}",
        f"{payload}.{signature[:-3]}",
        f"{payload}{signature}",
        f"{cursor}.x",
    ):
        response = await client.get("/api/v1/issues", params={"cursor": tampered})
        assert response.status_code == 400, tampered
        assert problem_type(response) == "invalid-cursor"


NEAREST_FILTER = IssueFilter(near=LonLat(*CENTRE), radius_m=10_000.0, sort=Sort.nearest)


@pytest.mark.parametrize(
    ("params", "scope", "key"),
    [
        pytest.param({}, IssueFilter(), ["yesterday", 1], id="newest: not a time"),
        pytest.param({}, IssueFilter(), [12, 1], id="newest: a number for the time"),
        pytest.param({}, IssueFilter(), ["2026-03-01T00:00:00+00:00", "1"], id="newest: text id"),
        pytest.param({}, IssueFilter(), ["2026-03-01T00:00:00+00:00"], id="newest: one part"),
        pytest.param({}, IssueFilter(), "x", id="not a list"),
        pytest.param(NEAREST, NEAREST_FILTER, [None, 1], id="nearest: no distance"),
        pytest.param(NEAREST, NEAREST_FILTER, ["far", 1], id="nearest: not a number"),
        pytest.param(NEAREST, NEAREST_FILTER, [12.5, True], id="nearest: a boolean id"),
    ],
)
async def test_a_validly_signed_but_malformed_cursor_is_refused(
    client: httpx.AsyncClient,
    app: FastAPI,
    params: dict[str, Any],
    scope: IssueFilter,
    key: Any,
) -> None:
    """As if an older release had issued it: the signature holds, the contents do not."""
    codec: CursorCodec = app.state.cursors
    cursor = codec.encode(scope=scope.fingerprint(), key=key)
    response = await client.get("/api/v1/issues", params={**params, "cursor": cursor})
    assert response.status_code == 400, response.text
    assert problem_type(response) == "invalid-cursor"
    assert "malformed" in response.json()["detail"]


@pytest.mark.parametrize(
    ("limit", "status"),
    [("0", 422), ("-1", 422), ("201", 422), ("ten", 422), ("1.5", 422), ("200", 200), ("1", 200)],
)
async def test_page_size_bounds(client: httpx.AsyncClient, limit: str, status: int) -> None:
    response = await client.get("/api/v1/issues", params={"limit": limit})
    assert response.status_code == status, response.text
    if status == 422:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["location"] == "query.limit"


async def test_the_default_page_has_fifty_issues(
    client: httpx.AsyncClient, db: Session, database: Database, reporter: User, category: Category
) -> None:
    _place(db, database, reporter, category, [CENTRE] * 51)
    first = (await client.get("/api/v1/issues")).json()
    assert len(first["items"]) == 50
    rest = (await client.get("/api/v1/issues", params={"cursor": first["next_cursor"]})).json()
    assert (len(rest["items"]), rest["next_cursor"]) == (1, None)


async def test_an_overlong_cursor_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/issues", params={"cursor": "x" * 2001})
    assert response.status_code == 422
    assert response.json()["errors"][0]["location"] == "query.cursor"
