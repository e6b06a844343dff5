"""Request types where a point is (GET /issues/new and /request_types), their questions, and
places (the city's districts), against the reference notes §c.4."""

from __future__ import annotations

import httpx
import shapely
from sqlalchemy.orm import Session

from app.models import District
from tests.factories import IN_EAST, IN_WEST, OUTSIDE
from tests.seeclickfix.conftest import API, ScfCity


async def test_request_types_are_those_offered_at_the_point(
    client: httpx.AsyncClient, city: ScfCity
) -> None:
    at_west = {"lat": str(IN_WEST[1]), "lng": str(IN_WEST[0])}
    for path in ("/issues/new", "/request_types"):
        offered = (await client.get(f"{API}{path}", params=at_west)).json()["request_types"]
        assert {t["id"] for t in offered} >= {city.pothole.id, city.light.id}
        assert set(offered[0]) == {"id", "title", "organization", "url", "related_issues_url"}
    outside = {"lat": str(OUTSIDE[1]), "lng": str(OUTSIDE[0])}
    far = (await client.get(f"{API}/request_types", params=outside)).json()["request_types"]
    assert {t["id"] for t in far}.isdisjoint({city.pothole.id, city.light.id})


async def test_a_request_type_lists_its_questions(client: httpx.AsyncClient, city: ScfCity) -> None:
    body = (await client.get(f"{API}/request_types/{city.pothole.id}")).json()
    assert body["id"] == city.pothole.id
    # Only questions a reporter answers (the informational one is left out).
    assert body["questions"] == [
        {
            "primary_key": "size",
            "question": "Question size",
            "question_type": "select",
            "answer_kept_private": False,
            "response_required": True,
            "select_values": [
                {"key": "small", "name": "Smaller than a plate"},
                {"key": "large", "name": "Larger than a wheel"},
            ],
        }
    ]


async def test_places_are_the_districts(
    client: httpx.AsyncClient, city: ScfCity, db: Session
) -> None:
    places = (await client.get(f"{API}/places")).json()["places"]
    assert [p["url_name"] for p in places] == ["east", "west"]
    east = places[0]
    assert set(east) == {
        "id", "name", "url_name", "county", "state", "center", "place_type", "avatar", "url",
        "html_url", "html_report_url",
    }  # fmt: skip
    assert east["name"] == "East"
    assert east["url"] == f"https://city.example{API}/places/{east['id']}"
    district = db.get(District, east["id"])
    assert district is not None
    centre = shapely.Point(east["center"]["coordinates"])
    assert district.area.contains(centre)
    assert (await client.get(east["url"].removeprefix("https://city.example"))).json() == east
    at_east = {"lat": str(IN_EAST[1]), "lng": str(IN_EAST[0])}
    assert [
        p["url_name"] for p in (await client.get(f"{API}/places", params=at_east)).json()["places"]
    ] == ["east"]
    outside = {"lat": str(OUTSIDE[1]), "lng": str(OUTSIDE[0])}
    assert (await client.get(f"{API}/places", params=outside)).json()["places"] == []


async def test_comments_list_the_public_conversation(
    client: httpx.AsyncClient, city: ScfCity
) -> None:
    from app.services.seeclickfix import issue_number

    body = (await client.get(f"{API}/issues/{issue_number(city.closed)}/comments")).json()
    assert [(c["comment"], c["issue"]["status"]) for c in body["comments"]][-1] == (
        "Filled",
        "Closed",
    )
    assert set(body["comments"][0]) == {
        "comment", "commenter", "media", "flag_url", "created_at", "updated_at", "moderated",
        "issue",
    }  # fmt: skip
