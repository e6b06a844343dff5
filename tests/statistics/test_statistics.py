"""Public statistics, counted by the database, against values worked out by hand (see the
`known` fixture for the four issues and their times)."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from sqlalchemy.orm import Session

from app.db import Database
from tests.factories import IN_WEST, make_category, make_issue, make_user
from tests.known import Known

STATS = "/api/v1/stats"


async def get(client: httpx.AsyncClient, path: str, **params: str) -> dict[str, object]:
    response = await client.get(f"{STATS}{path}", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def pairs(body: dict[str, object]) -> list[tuple[object, object]]:
    counts = body["counts"]
    assert isinstance(counts, list)
    return [(c["key"], c["count"]) for c in counts]


async def test_counts_by_status_category_agency_and_district(
    client: httpx.AsyncClient, known: Known
) -> None:
    assert pairs(await get(client, "/counts/status")) == [
        ("resolved", 2),
        ("acknowledged", 1),
        ("open", 1),
    ]
    assert pairs(await get(client, "/counts/category")) == [("pothole", 2), ("streetlight", 2)]
    assert pairs(await get(client, "/counts/agency")) == [("west", 2), (None, 1), ("east", 1)]
    by_district = await get(client, "/counts/district")
    assert pairs(by_district) == [("west-side", 2), (None, 1), ("east-side", 1)]
    counts = by_district["counts"]
    assert isinstance(counts, list)
    assert counts[0]["name"] == "West-Side"


async def test_counts_take_the_issue_list_filters(client: httpx.AsyncClient, known: Known) -> None:
    assert pairs(await get(client, "/counts/status", category="pothole")) == [("resolved", 2)]
    assert pairs(await get(client, "/counts/category", created_after="2026-03-03T00:00:00Z")) == [
        ("streetlight", 2)
    ]


async def series(client: httpx.AsyncClient, event: str, period: str) -> list[tuple[str, int]]:
    body = await get(client, f"/series/{event}", period=period)
    assert body["timezone"] == "Asia/Bangkok"
    return [(p["period"], p["count"]) for p in body["series"]]  # type: ignore[attr-defined]


async def test_series_per_local_day_week_and_month(client: httpx.AsyncClient, known: Known) -> None:
    assert await series(client, "reported", "day") == [
        ("2026-03-02", 2),
        ("2026-03-04", 1),
        ("2026-03-09", 1),
    ]
    assert await series(client, "resolved", "day") == [("2026-03-03", 1), ("2026-03-10", 1)]
    # I4 is Monday 03-09 in Bangkok, though still Sunday in UTC: it opens the next week.
    assert await series(client, "reported", "week") == [("2026-03-02", 3), ("2026-03-09", 1)]
    assert await series(client, "resolved", "week") == [("2026-03-02", 1), ("2026-03-09", 1)]
    assert await series(client, "reported", "month") == [("2026-03-01", 4)]
    assert await series(client, "resolved", "month") == [("2026-03-01", 2)]


async def test_busiest_hours_and_weekdays_in_local_time(
    client: httpx.AsyncClient, known: Known
) -> None:
    body = await get(client, "/patterns")
    by_hour = {h["hour"]: h["count"] for h in body["by_hour"]}  # type: ignore[attr-defined]
    assert {h: n for h, n in by_hour.items() if n} == {0: 1, 1: 1, 8: 1, 9: 1}
    by_weekday = {d["name"]: d["count"] for d in body["by_weekday"]}  # type: ignore[attr-defined]
    assert {d: n for d, n in by_weekday.items() if n} == {"Monday": 3, "Wednesday": 1}
    assert body["busiest_weekday"] == 1
    assert body["busiest_hour"] == 0  # a four-way tie: the earliest hour


async def test_median_p90_and_share_within_target(client: httpx.AsyncClient, known: Known) -> None:
    # Acknowledged after 120, 1800 and 60 minutes (60 min 30 s counts as 60).
    assert await get(client, "/timings/acknowledge") == {
        "stage": "acknowledge",
        "count": 3,
        "median_hours": 2.0,
        "p90_hours": 30.0,
        "within_target": 2,
        "within_target_share": 0.6667,
    }
    # Resolved after 1800 and 12000 minutes.
    assert await get(client, "/timings/resolve") == {
        "stage": "resolve",
        "count": 2,
        "median_hours": 30.0,
        "p90_hours": 200.0,
        "within_target": 1,
        "within_target_share": 0.5,
    }


async def test_no_issues_gives_empty_statistics(client: httpx.AsyncClient) -> None:
    assert (await get(client, "/counts/status"))["counts"] == []
    assert (await get(client, "/series/reported"))["series"] == []
    assert await get(client, "/timings/resolve") == {
        "stage": "resolve",
        "count": 0,
        "median_hours": None,
        "p90_hours": None,
        "within_target": 0,
        "within_target_share": None,
    }
    patterns = await get(client, "/patterns")
    assert patterns["busiest_hour"] is None


async def test_answers_are_cached_with_an_etag(client: httpx.AsyncClient, known: Known) -> None:
    first = await client.get(f"{STATS}/counts/status")
    assert first.headers["cache-control"] == "public, max-age=60"
    etag = first.headers["etag"]
    again = await client.get(f"{STATS}/counts/status", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.headers["etag"] == etag
    other = await client.get(f"{STATS}/counts/status", params={"category": "pothole"})
    assert other.headers["etag"] != etag


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/counts/colour", {}),
        ("/series/reported", {"period": "year"}),
        ("/series/fixed", {}),
        ("/timings/acknowledge", {"created_after": "last tuesday"}),
        ("/timings/forever", {}),
        ("/patterns", {"category": "volcano"}),
        ("/counts/status", {"bbox": "1,2,3"}),
    ],
)
async def test_bad_input_is_a_problem_not_a_crash(
    client: httpx.AsyncClient, path: str, params: dict[str, str]
) -> None:
    response = await client.get(f"{STATS}{path}", params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"


async def test_each_issue_shows_its_time_frame(
    client: httpx.AsyncClient, db: Session, database: Database, known: Known
) -> None:
    states = []
    for public_id in known.ids:
        response = await client.get(f"/api/v1/issues/{public_id}/timeframe")
        assert response.status_code == 200, response.text
        states.append(response.json()["state"])
    # I3 is acknowledged but long past its resolution deadline; I4 was never acknowledged.
    assert states == ["met", "missed", "late", "late"]
    fresh = make_issue(
        db,
        database.spatial,
        reporter=make_user(db),
        category=make_category(db, resolve_hours=48),
        at=IN_WEST,
    )
    frame = (await client.get(f"/api/v1/issues/{fresh.public_id}/timeframe")).json()
    assert frame["state"] == "on_track"
    expected = dt.datetime.fromisoformat(frame["expected_datetime"])
    assert expected - fresh.created_at == dt.timedelta(hours=48)
