"""GET Service Requests and GET Service Request: the spec's fields, dates with offsets, the two
statuses, the 90-day window, id lists that override everything, tokens and discovery."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import Issue, Open311Submission
from tests.factories import IN_EAST, IN_WEST, bearer, if_match, make_issue
from tests.open311.conftest import V2, Open311City
from tests.open311.helpers import children, error_codes, request_form, xml

SPEC_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]
BANGKOK = dt.timezone(dt.timedelta(hours=7))


async def report(client: httpx.AsyncClient, city: Open311City, **form: str) -> str:
    response = await client.post(f"{V2}/requests.json", data=request_form(city.api_key, **form))
    assert response.status_code == 201, response.text
    request_id: str = response.json()[0]["service_request_id"]
    return request_id


def backdate(db: Session, request_id: str, days: float) -> dt.datetime:
    """Pretend the request was made `days` ago (and not touched since)."""
    when = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    db.execute(
        update(Issue)
        .where(Issue.public_id == request_id)
        .values(created_at=when, updated_at=when, version=Issue.version)
    )
    db.commit()
    return when


async def act(
    client: httpx.AsyncClient, settings: Settings, city: Open311City, request_id: str, **body: Any
) -> None:
    moved = await client.post(
        f"/api/v1/issues/{request_id}/transitions",
        headers=await if_match(client, request_id, bearer(settings, city.agent)),
        json=body,
    )
    assert moved.status_code == 200, moved.text


async def ids(client: httpx.AsyncClient, **params: str) -> list[str]:
    response = await client.get(f"{V2}/requests.json", params=params)
    assert response.status_code == 200, response.text
    return [r["service_request_id"] for r in response.json()]


async def test_one_request_has_the_specs_fields_with_offsets_and_no_personal_data(
    client: httpx.AsyncClient, db: Session, city: Open311City
) -> None:
    request_id = await report(
        client,
        city,
        email="someone@example.org",
        phone="0812345678",
        first_name="Somchai",
        address_id="BKK-000123",
        media_url="https://img.example.org/hole.jpg",
    )
    response = await client.get(f"{V2}/requests/{request_id}.json")
    assert response.status_code == 200
    [request] = response.json()
    assert list(request) == SPEC_FIELDS
    assert "someone@example.org" not in response.text
    assert "0812345678" not in response.text
    assert "Somchai" not in response.text
    assert request["status"] == "open"
    assert request["status_notes"] is None
    assert request["agency_responsible"] is None
    assert request["description"] == "Deep hole in the left lane\nNear the 7-Eleven"
    assert (request["lat"], request["long"]) == (IN_WEST[1], IN_WEST[0])
    assert (request["address_id"], request["zipcode"]) == ("BKK-000123", None)
    assert request["media_url"] == "https://img.example.org/hole.jpg"
    requested = dt.datetime.fromisoformat(request["requested_datetime"])
    expected = dt.datetime.fromisoformat(request["expected_datetime"])
    assert request["requested_datetime"].endswith("+07:00")
    assert requested.utcoffset() == dt.timedelta(hours=7)
    assert expected - requested == dt.timedelta(hours=168)
    db.rollback()
    stored = db.scalar(select(Issue.created_at).where(Issue.public_id == request_id))
    assert stored is not None
    assert requested == stored.replace(microsecond=0)


async def test_a_closed_request_carries_its_close_time_notes_and_agency(
    client: httpx.AsyncClient, db: Session, settings: Settings, city: Open311City
) -> None:
    request_id = await report(client, city)
    await act(client, settings, city, request_id, action="claim")
    await act(
        client, settings, city, request_id, action="resolve", resolution="fixed", note="Patched"
    )
    root = xml(await client.get(f"{V2}/requests/{request_id}.xml"))
    assert root.tag == "service_requests"
    [element] = root.findall("request")
    fields = children(element)
    assert list(fields) == SPEC_FIELDS
    assert fields["status"] == "closed"
    assert fields["status_notes"] == "Patched"
    assert fields["agency_responsible"] == "Agency " + fields["agency_responsible"].split()[-1]
    assert fields["zipcode"] == ""
    db.rollback()
    resolved_at = db.scalar(select(Issue.resolved_at).where(Issue.public_id == request_id))
    assert resolved_at is not None
    updated = dt.datetime.fromisoformat(fields["updated_datetime"])
    assert updated == resolved_at.replace(microsecond=0)


async def test_the_default_window_is_the_most_recent_90_days(
    client: httpx.AsyncClient, db: Session, city: Open311City
) -> None:
    recent, old = await report(client, city), await report(client, city)
    backdate(db, recent, 80)
    old_at = backdate(db, old, 100)
    assert await ids(client) == [recent]
    window = {
        "start_date": (old_at - dt.timedelta(days=1)).isoformat(),
        "end_date": (old_at + dt.timedelta(days=1)).isoformat(),
    }
    assert await ids(client, **window) == [old]
    only_start = {"start_date": (old_at - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")}
    assert await ids(client, **only_start) == [recent, old]


async def test_an_end_date_to_the_second_includes_requests_made_during_that_second(
    client: httpx.AsyncClient, db: Session, city: Open311City
) -> None:
    request_id = await report(client, city)
    made = backdate(db, request_id, 1).replace(microsecond=750_000)
    db.execute(update(Issue).where(Issue.public_id == request_id).values(created_at=made))
    db.commit()
    [shown] = (await client.get(f"{V2}/requests/{request_id}.json")).json()
    # The request is shown to the second; asking up to that second finds it.
    start = (made - dt.timedelta(days=1)).isoformat()
    shown_at = shown["requested_datetime"]
    assert await ids(client, start_date=start, end_date=shown_at) == [request_id]
    before = (made.replace(microsecond=0) - dt.timedelta(seconds=1)).isoformat()
    assert await ids(client, start_date=start, end_date=before) == []
    # Fractional seconds are compared as given.
    just_before = made.replace(microsecond=749_999).isoformat()
    assert await ids(client, start_date=start, end_date=just_before) == []
    assert await ids(client, start_date=start, end_date=made.isoformat()) == [request_id]


@pytest.mark.parametrize(
    "params",
    [
        {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-04-02T00:00:00Z"},
        {"start_date": "2026-03-01T00:00:00Z", "end_date": "2026-02-01T00:00:00Z"},
        {"start_date": "yesterday"},
        {"end_date": "2026-13-01T00:00:00Z"},
        {"start_date": "2026-01-01T00:00:00"},
        {"status": "pending"},
        {"service_code": "volcano"},
        {"page_size": "1001"},
        {"page": "0"},
        {"bbox": "100.5,13.7"},
        {"lat": "13.7", "long": "100.5"},
        {"radius": "100"},
        {"updated_after": "last week"},
    ],
)
async def test_bad_query_arguments_get_the_specs_error_answer(
    client: httpx.AsyncClient, city: Open311City, params: dict[str, str]
) -> None:
    for fmt in ("json", "xml"):
        response = await client.get(f"{V2}/requests.{fmt}", params=params)
        expected = 404 if "service_code" in params else 400
        assert response.status_code == expected, response.text
        assert error_codes(response) == [expected]


async def test_a_window_of_exactly_90_days_with_offsets_and_unencoded_plus_is_accepted(
    client: httpx.AsyncClient, city: Open311City
) -> None:
    request_id = await report(client, city)
    now = dt.datetime.now(BANGKOK).replace(microsecond=0)
    start = (now - dt.timedelta(days=89)).isoformat()
    end = (now + dt.timedelta(days=1)).isoformat()
    # A client that does not encode "+" sends a space.
    raw = f"{V2}/requests.json?start_date={start.replace('+', ' ')}&end_date={end}"
    response = await client.get(raw.replace("+07:00", "%2B07:00"))
    assert [r["service_request_id"] for r in response.json()] == [request_id]


async def test_status_and_service_code_filters_take_comma_lists_and_empty_means_all(
    client: httpx.AsyncClient, settings: Settings, city: Open311City
) -> None:
    light = await report(client, city, service_code="streetlight", **{"attribute[size]": ""})
    hole = await report(client, city)
    await act(client, settings, city, hole, action="claim")
    await act(client, settings, city, hole, action="resolve", resolution="fixed")
    assert await ids(client, status="open") == [light]
    assert await ids(client, status="closed") == [hole]
    assert await ids(client, status="open,closed") == [hole, light]
    assert await ids(client, status="", service_code="") == [hole, light]
    assert await ids(client, service_code="streetlight") == [light]
    assert await ids(client, service_code="pothole,streetlight") == [hole, light]


async def test_a_list_of_ids_overrides_every_other_argument(
    client: httpx.AsyncClient, db: Session, city: Open311City
) -> None:
    old, recent, other = [await report(client, city) for _ in range(3)]
    backdate(db, old, 400)
    found = await ids(
        client, service_request_id=f"{old},{recent}", status="closed", service_code="streetlight"
    )
    assert sorted(found) == sorted([old, recent])
    assert other not in found


async def test_an_unknown_request_is_404(client: httpx.AsyncClient, city: Open311City) -> None:
    for fmt in ("json", "xml"):
        response = await client.get(f"{V2}/requests/NOSUCHID.{fmt}")
        assert response.status_code == 404
        assert error_codes(response) == [404]


async def test_extensions_page_and_filter_by_place_and_update_time(
    client: httpx.AsyncClient, db: Session, settings: Settings, city: Open311City
) -> None:
    west = [await report(client, city) for _ in range(3)]
    east = await report(client, city, lat=str(IN_EAST[1]), long=str(IN_EAST[0]))
    newest_first = [east, *reversed(west)]
    assert await ids(client) == newest_first
    assert await ids(client, page_size="2") == newest_first[:2]
    assert await ids(client, page_size="2", page="2") == newest_first[2:]
    assert await ids(client, page_size="2", page="3") == []
    assert await ids(client, bbox="100.55,13.70,100.60,13.75") == [east]
    assert await ids(client, lat=str(IN_WEST[1]), long=str(IN_WEST[0]), radius="100") == list(
        reversed(west)
    )
    for request_id in west:
        backdate(db, request_id, 200)
    touched = west[0]
    cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    await act(client, settings, city, touched, action="claim")
    changed = await ids(client, updated_after=cutoff.isoformat())
    assert changed == [east, touched]


async def test_a_page_holds_50_requests_unless_page_size_asks_for_up_to_1000(
    client: httpx.AsyncClient, db: Session, database: Database, city: Open311City
) -> None:
    for n in range(53):
        make_issue(
            db,
            database.spatial,
            reporter=city.integration,
            category=city.light,
            title=f"Lamp out number {n}",
        )
    first, second = await ids(client), await ids(client, page="2")
    assert (len(first), len(second)) == (50, 3)
    everything = await ids(client, page_size="1000")
    assert everything == first + second
    assert len(set(everything)) == 53


async def test_extensions_true_adds_status_detail_history_and_agency(
    client: httpx.AsyncClient, db: Session, settings: Settings, city: Open311City
) -> None:
    request_id = await report(client, city)
    await act(client, settings, city, request_id, action="claim", note="On our list")
    await act(client, settings, city, request_id, action="start")
    plain = await client.get(f"{V2}/requests/{request_id}.json")
    assert "extended_attributes" not in plain.json()[0]
    extended = await client.get(f"{V2}/requests.json", params={"extensions": "true"})
    [request] = extended.json()
    extra = request["extended_attributes"]
    assert extra["status_detail"] == "in_progress"
    assert extra["agency"]["slug"] == "west"
    assert [(e["action"], e["status"], e["status_detail"]) for e in extra["history"]] == [
        ("reported", "open", "open"),
        ("claimed", "open", "acknowledged"),
        ("started", "open", "in_progress"),
    ]
    assert extra["history"][1]["note"] == "On our list"
    assert all(e["datetime"].endswith("+07:00") for e in extra["history"])
    root = xml(await client.get(f"{V2}/requests/{request_id}.xml?extensions=true"))
    events = root.findall("request/extended_attributes/history/event")
    assert [e.findtext("action") for e in events] == ["reported", "claimed", "started"]


async def test_a_token_gives_back_its_service_request_id(
    client: httpx.AsyncClient, db: Session, city: Open311City
) -> None:
    request_id = await report(client, city)
    db.rollback()
    token = db.scalar(
        select(Open311Submission.token)
        .join(Issue, Issue.id == Open311Submission.issue_id)
        .where(Issue.public_id == request_id)
    )
    assert token is not None
    response = await client.get(f"{V2}/tokens/{token}.json")
    assert response.json() == [{"service_request_id": request_id, "token": token}]
    root = xml(await client.get(f"{V2}/tokens/{token}.xml"))
    assert children(root.findall("request")[0]) == {
        "service_request_id": request_id,
        "token": token,
    }
    missing = await client.get(f"{V2}/tokens/nope.json")
    assert missing.status_code == 404
    assert error_codes(missing) == [404]


async def test_discovery_names_the_v2_endpoint_and_both_formats(
    client: httpx.AsyncClient,
) -> None:
    body = (await client.get("/open311/discovery.json")).json()
    [endpoint] = body["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://127.0.0.1:8000/open311/v2"  # the public base URL
    assert endpoint["formats"] == ["text/xml", "application/json"]
    assert endpoint["type"] == "production"
    assert dt.datetime.fromisoformat(body["changeset"]) < dt.datetime.now(dt.UTC)
    root = xml(await client.get("/open311/discovery.xml"))
    assert root.tag == "discovery"
    assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == [
        "text/xml",
        "application/json",
    ]


async def test_the_specs_sample_query_is_answered(
    client: httpx.AsyncClient, city: Open311City
) -> None:
    await report(client, city)
    response = await client.get(
        f"{V2}/requests.xml",
        params={
            "start_date": "2010-05-24T00:00:00Z",
            "end_date": "2010-06-24T00:00:00Z",
            "status": "open",
            "jurisdiction_id": "bangkok.example",
        },
    )
    assert response.status_code == 200
    root = xml(response)
    assert root.tag == "service_requests"
    assert root.findall("request") == []
