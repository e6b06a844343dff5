"""A private report is seen by its reporter, the agency handling it (while unclaimed, the
agencies it was routed to) and admins, and by no one else: it is absent from every public
surface and export, and nothing public says it exists."""

from __future__ import annotations

import csv
import io
import json

import httpx
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from tests.factories import IN_WEST, bearer, if_match, make_user
from tests.lifecycle.helpers import City, act, report
from tests.notifications.helpers import outbox
from tests.photos.helpers import upload
from tests.photos.images import phone_jpeg
from tests.work.sse import messages_of

STRANGER_DEVICE = {"X-Device-Id": "a-stranger-phone-with-a-long-secret-id-0001"}


async def private_report(client: httpx.AsyncClient, settings: Settings, city: City) -> str:
    """A private report in the west district, by the city's reporter, over HTTP."""
    response = await client.post(
        "/api/v1/issues",
        headers=bearer(settings, city.reporter),
        json={
            "category": "pothole",
            "title": "Broken street light outside my house",
            "description": "My neighbour keeps breaking it",
            "longitude": IN_WEST[0],
            "latitude": IN_WEST[1],
            "private": True,
        },
    )
    assert response.status_code == 201, response.text
    assert response.json()["private"] is True
    issue_id: str = response.json()["id"]
    return issue_id


def ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def test_a_private_report_is_absent_from_every_public_surface(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    public = report(db, database, city)
    private = await private_report(client, settings, city)
    stranger = bearer(settings, city.stranger)
    near = {"lat": str(IN_WEST[1]), "lon": str(IN_WEST[0]), "radius": "500"}

    # Lists, search, map (GeoJSON, bbox, radius, nearest), anonymous or signed in as anyone else.
    for headers in ({}, STRANGER_DEVICE, stranger, bearer(settings, city.east_agent)):
        for params in (
            {},
            {"q": "street light"},
            {"bbox": "100.50,13.70,100.55,13.75"},
            near,
            {**near, "sort": "nearest"},
            {"status": "open"},
        ):
            listed = await client.get("/api/v1/issues", headers=headers, params=params)
            assert ids(listed) == [public], params
        geo = await client.get(
            "/api/v1/issues",
            headers={**headers, "Accept": "application/geo+json"},
            params={"bbox": "100.50,13.70,100.55,13.75"},
        )
        assert [f["id"] for f in geo.json()["features"]] == [public]
        # The issue and everything under it: the same 404 as an issue that never was.
        for path in ("", "/events", "/timeline", "/comments", "/timeframe", "/progress", "/photos"):
            read = await client.get(f"/api/v1/issues/{private}{path}", headers=headers)
            assert read.status_code == 404, (path, headers)
    never = await client.get("/api/v1/issues/ZZZZZZZZZZ")
    hidden = await client.get(f"/api/v1/issues/{private}")
    assert hidden.json()["detail"] == never.json()["detail"].replace("ZZZZZZZZZZ", private)
    # No one else joins in: following, commenting, supporting find nothing.
    for method, path, body in (
        ("POST", "follow", None),
        ("POST", "comments", {"body": "me too"}),
        ("POST", "support", None),
    ):
        joined = await client.request(
            method, f"/api/v1/issues/{private}/{path}", headers=STRANGER_DEVICE, json=body
        )
        assert joined.status_code == 404, path
    # Duplicate suggestions for a new report at the same place.
    similar = await client.get(
        "/api/v1/issues/similar",
        params={
            "category": "pothole",
            "latitude": str(IN_WEST[1]),
            "longitude": str(IN_WEST[0]),
            "title": "Broken street light",
        },
    )
    assert similar.status_code == 200, similar.text
    assert [item["id"] for item in similar.json()["items"]] == [public]

    # Open311: the list, a query by id, the single request.
    requests = (await client.get("/open311/v2/requests.json")).json()
    assert [r["service_request_id"] for r in requests] == [public]
    by_id = await client.get("/open311/v2/requests.json", params={"service_request_id": private})
    assert by_id.json() == []
    assert (await client.get(f"/open311/v2/requests/{private}.json")).status_code == 404

    # Open-data exports in every format.
    ndjson = await client.get("/api/v1/exports/issues.ndjson")
    assert [json.loads(line)["id"] for line in ndjson.text.splitlines()] == [public]
    table = list(csv.DictReader(io.StringIO((await client.get("/api/v1/exports/issues.csv")).text)))
    assert [row["id"] for row in table] == [public]
    geojson = (await client.get("/api/v1/exports/issues.geojson")).json()
    assert [f["id"] for f in geojson["features"]] == [public]
    assert private not in ndjson.text + str(table) + str(geojson)

    # Statistics count only public issues: a count over a small box would reveal it otherwise.
    for dimension in ("status", "category", "district"):
        counts = (await client.get(f"/api/v1/stats/counts/{dimension}")).json()["counts"]
        assert sum(c["count"] for c in counts) == 1, dimension
    boxed = await client.get(
        "/api/v1/stats/counts/status", params={"bbox": "100.51,13.71,100.53,13.73"}
    )
    assert {c["key"]: c["count"] for c in boxed.json()["counts"]} == {"open": 1}


async def test_the_reporter_the_routed_agencies_and_admins_see_it_and_work_on_it(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    private = await private_report(client, settings, city)
    for user in (city.reporter, city.agent, city.rival, city.admin):
        read = await client.get(f"/api/v1/issues/{private}", headers=bearer(settings, user))
        assert read.status_code == 200, user
        assert read.json()["private"] is True
    mine = await client.get("/api/v1/users/me/issues", headers=bearer(settings, city.reporter))
    assert ids(mine) == [private]
    for staff, agency in ((city.agent, city.west), (city.rival, city.metro)):
        queue = await client.get(
            f"/api/v1/agencies/{agency.id}/queue", headers=bearer(settings, staff)
        )
        assert ids(queue) == [private]
    # Both routed agencies heard of it; the reporter got a receipt.
    assert {r.reason for r in outbox(database, private)} >= {"agency", "reporter"}

    # Once west claims it, metro (which only had it routed) no longer sees it.
    assert (await act(client, settings, city.agent, private, "claim")).status_code == 200
    gone = await client.get(f"/api/v1/issues/{private}", headers=bearer(settings, city.rival))
    assert gone.status_code == 404
    queue = await client.get(
        f"/api/v1/agencies/{city.metro.id}/queue", headers=bearer(settings, city.rival)
    )
    assert ids(queue) == []
    reporter_view = await client.get(
        f"/api/v1/issues/{private}/events", headers=bearer(settings, city.reporter)
    )
    assert [e["action"] for e in reporter_view.json()] == ["reported", "claimed"]


async def test_its_photos_are_served_only_to_those_who_see_it(
    client: httpx.AsyncClient, settings: Settings, city: City
) -> None:
    private = await private_report(client, settings, city)
    added = await upload(client, settings, city.reporter, private, ("p.jpg", phone_jpeg(800, 600)))
    assert added.status_code == 201, added.text
    display = added.json()[0]["urls"]["display"]
    for headers in ({}, STRANGER_DEVICE, bearer(settings, city.stranger)):
        assert (await client.get(display, headers=headers)).status_code == 404
    for user in (city.reporter, city.agent, city.admin):
        served = await client.get(display, headers=bearer(settings, user))
        assert served.status_code == 200
        # Never in a shared cache.
        assert served.headers["Cache-Control"].startswith("private")


async def test_area_watchers_are_not_told_of_a_private_report(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    watcher = make_user(db)
    watch = await client.post(
        "/api/v1/watches",
        headers=bearer(settings, watcher),
        json={"latitude": IN_WEST[1], "longitude": IN_WEST[0], "radius_m": 500},
    )
    assert watch.status_code == 201, watch.text
    private = await private_report(client, settings, city)
    assert [r for r in outbox(database, private) if r.reason == "watcher"] == []
    public = report(db, database, city)
    assert {r.recipient_user_id for r in outbox(database, public) if r.reason == "watcher"} == {
        watcher.id
    }


async def test_an_agency_that_handed_it_over_no_longer_sees_it_even_in_its_feed(
    client: httpx.AsyncClient, settings: Settings, city: City
) -> None:
    private = await private_report(client, settings, city)
    assert (await act(client, settings, city.agent, private, "claim")).status_code == 200
    moved = await act(
        client, settings, city.agent, private, "transfer", to_agency=city.east.id, note="East's"
    )
    assert moved.status_code == 200, moved.text
    assert (
        await client.get(f"/api/v1/issues/{private}", headers=bearer(settings, city.agent))
    ).status_code == 404

    async def feed(user_headers: dict[str, str]) -> set[str]:
        stream = await client.get(
            "/api/v1/feed", headers=user_headers, params={"last_event_id": "0"}
        )
        assert stream.status_code == 200, stream.text
        return {m.data["issue"]["id"] for m in messages_of(stream.text)}

    assert await feed(bearer(settings, city.agent)) == set()
    assert await feed(bearer(settings, city.east_agent)) == {private}


async def test_a_private_report_merged_into_a_public_one_is_not_named_there(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    public = report(db, database, city)
    private = await private_report(client, settings, city)
    for issue_id in (public, private):
        assert (await act(client, settings, city.agent, issue_id, "claim")).status_code == 200
    merged = await client.post(
        f"/api/v1/issues/{private}/merge",
        headers=await if_match(client, private, bearer(settings, city.agent)),
        json={"into": public},
    )
    assert merged.status_code == 200, merged.text
    assert (await client.get(f"/api/v1/issues/{public}")).json()["duplicates"] == []
    staff = await client.get(f"/api/v1/issues/{public}", headers=bearer(settings, city.agent))
    assert staff.json()["duplicates"] == [private]
