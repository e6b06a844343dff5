"""GET /issues and GET /issues/{id} against the reference notes (§c.2, c.4, c.5): every field
with its type, blank ones as null, the four statuses, areas, filters, sorts and pagination."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import User
from app.services import seeclickfix
from tests.factories import IN_EAST, IN_WEST
from tests.seeclickfix.conftest import API, ScfCity

# c.5, list form.
LIST_FIELDS = {
    "id", "status", "summary", "description", "rating", "lat", "lng", "point", "address",
    "created_at", "updated_at", "acknowledged_at", "closed_at", "reopened_at", "reporter",
    "shortened_url", "url", "comments_url", "flag_url", "html_url", "transitions", "media",
    "request_type",
}  # fmt: skip
# c.5, what details add.
DETAIL_FIELDS = {
    "assignee", "comments", "comment_count", "current_user_relationship", "questions",
    "integrations", "vote_count", "votes",
}  # fmt: skip
# ISO 8601 with the city's offset (Asia/Bangkok), whole seconds.
LOCAL_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00$")


def number(public_id: str) -> int:
    return seeclickfix.issue_number(public_id)


async def ids(client: httpx.AsyncClient, **params: str) -> list[int]:
    response = await client.get(f"{API}/issues", params=params)
    assert response.status_code == 200, response.text
    return [issue["id"] for issue in response.json()["issues"]]


async def test_an_issue_carries_every_reference_field_with_its_type(
    client: httpx.AsyncClient, city: ScfCity, db: Session
) -> None:
    response = await client.get(f"{API}/issues/{number(city.open)}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    issue: dict[str, Any] = response.json()
    assert set(issue) == LIST_FIELDS
    assert issue["id"] == number(city.open)
    assert isinstance(issue["id"], int)
    assert issue["id"] < 2**53
    assert issue["status"] == "Open"
    assert issue["summary"] == "Open pothole on Silom"
    assert issue["description"] == "The open one"
    assert issue["rating"] == "2"  # two neighbours back it: a string number
    assert (issue["lng"], issue["lat"]) == IN_WEST
    assert issue["point"] == {"type": "Point", "coordinates": list(IN_WEST)}
    assert issue["address"] == "Silom Soi 5"
    assert issue["created_at"] == "2026-11-30T16:00:00+07:00"
    assert LOCAL_TIME.match(issue["updated_at"])
    # Blank fields are present, as null.
    for blank in ("acknowledged_at", "closed_at", "reopened_at", "shortened_url", "flag_url"):
        assert issue[blank] is None
    url = f"https://city.example{API}/issues/{number(city.open)}"
    assert issue["url"] == url
    assert issue["comments_url"] == f"{url}/comments"
    assert issue["html_url"] == f"https://city.example/issues/{city.open}"
    assert issue["transitions"] == {}
    assert issue["media"] == {
        "video_url": None,
        "image_full": None,
        "image_square_100x100": None,
        "representative_image_url": None,
    }
    assert issue["request_type"]["id"] == city.pothole.id
    assert (
        issue["request_type"]["url"] == f"https://city.example{API}/request_types/{city.pothole.id}"
    )
    # The reporter is a public user without personal data.
    assert set(issue["reporter"]) == {"id", "name", "role", "witty_title", "civic_points", "avatar"}
    assert issue["reporter"]["id"] is None
    assert issue["reporter"]["role"] == "Registered User"
    users = db.scalars(select(User)).all()
    names = {n for u in users for n in (u.display_name, u.email) if n}
    assert issue["reporter"]["name"] not in names
    assert not any(name in response.text for name in names)


async def test_steps_carry_their_times_and_the_mapped_status(
    client: httpx.AsyncClient, city: ScfCity
) -> None:
    acknowledged = (await client.get(f"{API}/issues/{number(city.acknowledged)}")).json()
    assert acknowledged["status"] == "Acknowledged"
    assert LOCAL_TIME.match(acknowledged["acknowledged_at"])
    assert acknowledged["closed_at"] is None
    closed = (await client.get(f"{API}/issues/{number(city.closed)}")).json()
    assert closed["status"] == "Closed"  # resolved: fixed, the reporter may still reopen it
    assert LOCAL_TIME.match(closed["closed_at"])
    archived = (await client.get(f"{API}/issues/{number(city.archived)}")).json()
    assert archived["status"] == "Archived"  # closed for good
    assert LOCAL_TIME.match(archived["closed_at"])


async def test_details_add_the_conversation_votes_and_answers(
    client: httpx.AsyncClient, city: ScfCity
) -> None:
    opened = (await client.get(f"{API}/issues/{number(city.open)}?details=true")).json()
    assert set(opened) == LIST_FIELDS | DETAIL_FIELDS
    assert opened["vote_count"] == 2
    assert len(opened["votes"]) == 2
    assert all(LOCAL_TIME.match(v["created_at"]) for v in opened["votes"])
    assert opened["questions"] == [{"question": "Question size", "answer": "large"}]
    assert opened["current_user_relationship"] == {
        "assignee": False,
        "following": False,
        "reporter": False,
        "voted": False,
    }
    assert opened["assignee"] is None
    assert opened["integrations"] == []
    acknowledged = (
        await client.get(f"{API}/issues/{number(city.acknowledged)}?details=true")
    ).json()
    # The claim (a status change with its note) and the public comment; never the internal note.
    assert [c["comment"] for c in acknowledged["comments"]] == ["On our list", "Still dark tonight"]
    assert acknowledged["comment_count"] == 1
    claim, comment = acknowledged["comments"]
    assert claim["commenter"]["role"] == "Verified Official"
    assert claim["issue"] == {"status": "Acknowledged", "rating": "0"}
    assert comment["commenter"]["role"] == "Registered User"
    assert "internal" not in str(acknowledged)


async def test_the_default_list_is_open_acknowledged_and_closed_newest_first(
    client: httpx.AsyncClient, city: ScfCity
) -> None:
    assert await ids(client) == [number(city.open), number(city.acknowledged), number(city.closed)]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("archived", ["archived"]),
        ("Open,closed", ["open", "closed"]),
        ("acknowledged", ["acknowledged"]),
        ("", ["open", "acknowledged", "closed"]),  # empty is absent
    ],
)
async def test_status_filters_by_the_four_statuses(
    client: httpx.AsyncClient, city: ScfCity, status: str, expected: list[str]
) -> None:
    assert await ids(client, status=status) == [number(getattr(city, name)) for name in expected]


async def test_private_and_hidden_issues_never_appear(
    client: httpx.AsyncClient, city: ScfCity
) -> None:
    listed = await ids(client, status="open,acknowledged,closed,archived", per_page="100")
    assert len(listed) == 4
    for public_id in (city.private, city.hidden):
        assert number(public_id) not in listed
        response = await client.get(f"{API}/issues/{number(public_id)}")
        assert response.status_code == 404
        assert (await client.get(f"{API}/issues/{number(public_id)}/comments")).status_code == 404


async def test_pages_say_where_the_next_and_previous_are(
    client: httpx.AsyncClient, city: ScfCity
) -> None:
    first = (
        await client.get(f"{API}/issues", params={"per_page": "2", "status": "open,closed"})
    ).json()
    paging = first["metadata"]["pagination"]
    assert paging == {
        "entries": 2,
        "page": 1,
        "per_page": 2,
        "pages": 1,
        "next_page": None,
        "next_page_url": None,
        "previous_page": None,
        "previous_page_url": None,
    }
    assert first["errors"] == {}
    first = (await client.get(f"{API}/issues", params={"per_page": "2"})).json()
    paging = first["metadata"]["pagination"]
    assert (paging["entries"], paging["pages"], paging["next_page"]) == (3, 2, 2)
    link = urlsplit(paging["next_page_url"])
    assert (link.scheme, link.netloc, link.path) == ("https", "city.example", f"{API}/issues")
    assert parse_qs(link.query) == {"per_page": ["2"], "page": ["2"]}
    second = (await client.get(f"{API}/issues?{link.query}")).json()
    assert [i["id"] for i in second["issues"]] == [number(city.closed)]
    assert second["metadata"]["pagination"]["previous_page"] == 1
    assert second["metadata"]["pagination"]["next_page_url"] is None
    assert [i["id"] for i in first["issues"]] == [number(city.open), number(city.acknowledged)]


async def test_a_bounding_box_or_a_point_and_zoom_is_the_area(
    client: httpx.AsyncClient, city: ScfCity
) -> None:
    east = {"min_lat": "13.70", "min_lng": "100.56", "max_lat": "13.74", "max_lng": "100.60"}
    assert await ids(client, **east) == [number(city.closed)]
    # At zoom 14 a tile is about 0.022 degrees wide: the east point only.
    near_east = {"lat": str(IN_EAST[1]), "lng": str(IN_EAST[0]), "zoom": "14"}
    assert await ids(client, **near_east) == [number(city.closed)]
    # At zoom 8 it holds the whole city.
    assert len(await ids(client, **{**near_east, "zoom": "8"})) == 3


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"sort": "created_at", "sort_direction": "ASC"}, ["closed", "acknowledged", "open"]),
        ({"sort": "rating"}, ["open", "closed", "acknowledged"]),  # ties: newest id first
        ({"sort": "distance", "sort_direction": "asc", "lat": "13.72", "lng": "100.58"}, None),
    ],
)
async def test_sorts(
    client: httpx.AsyncClient, city: ScfCity, params: dict[str, str], expected: list[str] | None
) -> None:
    found = await ids(client, **params)
    if expected is None:  # nearest first: the east issue, then the two in the west
        assert found[0] == number(city.closed)
        assert len(found) == 3
    else:
        assert found == [number(getattr(city, name)) for name in expected]


async def test_request_types_search_and_dates_narrow_the_list(
    client: httpx.AsyncClient, city: ScfCity
) -> None:
    assert await ids(client, request_types=str(city.light.id)) == [number(city.acknowledged)]
    assert await ids(client, search="acknowledged ONE") == [number(city.acknowledged)]
    assert await ids(client, place_url="east") == [number(city.closed)]
    # Times without an offset are the city's: 16:00 in Bangkok is when the open one came in.
    assert await ids(client, after="2026-11-30T16:00:00") == [number(city.open)]
    assert await ids(client, before="2026-11-30T16:00:00") == [
        number(city.acknowledged),
        number(city.closed),
    ]
    assert await ids(client, after="2026-11-29", before="2026-11-30") == [number(city.acknowledged)]
    assert await ids(client, updated_at_after="2999-01-01T00:00:00Z") == []


async def test_fields_choose_what_each_issue_carries(
    client: httpx.AsyncClient, city: ScfCity
) -> None:
    listed = (await client.get(f"{API}/issues", params={"fields[issue]": "id,status"})).json()
    assert [set(i) for i in listed["issues"]] == [{"id", "status"}] * 3
    one = (
        await client.get(f"{API}/issues/{number(city.open)}?details=true&fields[issue]=vote_count")
    ).json()
    assert one == {"vote_count": 2}


async def test_ids_round_trip_and_unknown_ones_are_missing(
    client: httpx.AsyncClient, city: ScfCity
) -> None:
    for public_id in (city.open, "0000000000", "ZZZZZZZZZZ"):
        assert seeclickfix.public_id_of(seeclickfix.issue_number(public_id)) == public_id
    assert seeclickfix.public_id_of(32**10) is None
    for missing in ("1", str(32**10), "abc", "-1"):
        response = await client.get(f"{API}/issues/{missing}")
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == 404


async def test_the_dates_are_in_the_city_zone(client: httpx.AsyncClient, city: ScfCity) -> None:
    issue = (await client.get(f"{API}/issues/{number(city.open)}")).json()
    created = dt.datetime.fromisoformat(issue["created_at"])
    assert created == dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)
    assert created.utcoffset() == dt.timedelta(hours=7)
