"""Issue lists as JSON or as an RFC 7946 FeatureCollection, and what the public may see in them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from geojson_pydantic import FeatureCollection
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import Role
from tests.factories import bearer, if_match, make_user
from tests.queries.catalogue import (
    CENTRE,
    NEWEST_FIRST,
    REPORTER_EMAIL,
    REPORTER_NAME,
    SPECS,
    Catalogue,
)

GEOJSON = {"Accept": "application/geo+json"}
NEAREST: dict[str, Any] = {"lat": CENTRE[1], "lon": CENTRE[0], "radius": 50_000, "sort": "nearest"}


async def test_geojson_is_a_valid_feature_collection_with_lon_lat_points(
    client: httpx.AsyncClient, catalogue: Catalogue
) -> None:
    response = await client.get("/api/v1/issues", headers=GEOJSON)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/geo+json"
    body = response.json()
    FeatureCollection.model_validate(body)
    assert body["type"] == "FeatureCollection"
    assert catalogue.named([f["id"] for f in body["features"]]) == NEWEST_FIRST
    for feature in body["features"]:
        assert feature["type"] == "Feature"
        assert set(feature) == {"type", "id", "geometry", "properties"}
        spec = SPECS[catalogue.names[feature["id"]]]
        # RFC 7946 3.1.1: longitude first, then latitude; no altitude.
        assert feature["geometry"] == {"type": "Point", "coordinates": list(spec.at)}
        assert feature["properties"]["title"] == spec.title
        assert "latitude" not in feature["properties"]


async def test_geojson_and_json_list_the_same_issues_with_the_same_properties(
    client: httpx.AsyncClient, catalogue: Catalogue
) -> None:
    params: dict[str, Any] = {**NEAREST, "status": "open,acknowledged,in_progress"}
    plain = (await client.get("/api/v1/issues", params=params)).json()["items"]
    geo = (await client.get("/api/v1/issues", params=params, headers=GEOJSON)).json()
    assert [f["id"] for f in geo["features"]] == [i["id"] for i in plain]
    for feature, item in zip(geo["features"], plain, strict=True):
        lon, lat = item.pop("longitude"), item.pop("latitude")
        assert feature["geometry"]["coordinates"] == [lon, lat]
        assert feature["properties"] == item
        assert feature["properties"]["distance_m"] > 0


async def test_geojson_pages_follow_the_same_cursors(
    client: httpx.AsyncClient, catalogue: Catalogue
) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        body = (await client.get("/api/v1/issues", params=params, headers=GEOJSON)).json()
        FeatureCollection.model_validate(body)
        seen += [f["id"] for f in body["features"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert catalogue.named(seen) == NEWEST_FIRST


async def test_an_empty_result_is_an_empty_feature_collection(
    client: httpx.AsyncClient, catalogue: Catalogue
) -> None:
    body = (await client.get("/api/v1/issues", params={"q": "zzz"}, headers=GEOJSON)).json()
    FeatureCollection.model_validate(body)
    assert body == {"type": "FeatureCollection", "features": [], "next_cursor": None}


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        (None, "application/json"),
        ("application/json", "application/json"),
        ("*/*", "application/json"),
        ("application/geo+json", "application/geo+json"),
        ("application/geo+json, application/json;q=0.5", "application/geo+json"),
    ],
)
async def test_the_accept_header_picks_the_format(
    client: httpx.AsyncClient, catalogue: Catalogue, accept: str | None, media_type: str
) -> None:
    headers = {"Accept": accept} if accept else {}
    response = await client.get("/api/v1/issues", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type


DEVICE_ID = "device-7c4b1e9a-private-0042"


async def test_public_lists_never_show_who_reported(
    client: httpx.AsyncClient, db: Session, settings: Settings, catalogue: Catalogue
) -> None:
    # One more report, from a phone with no account.
    from_device = await client.post(
        "/api/v1/issues",
        headers={"X-Device-Id": DEVICE_ID},
        json={
            "category": "pothole",
            "title": "Pothole by the market",
            "latitude": CENTRE[1],
            "longitude": CENTRE[0],
        },
    )
    assert from_device.status_code == 201, from_device.text
    secrets = [REPORTER_EMAIL, REPORTER_NAME, DEVICE_ID, "reporter", "email", "device"]
    viewers: dict[str, dict[str, str]] = {
        "anonymous": {},
        "a citizen": bearer(settings, make_user(db)),
        "the reporter": bearer(settings, catalogue.reporter),
        "staff": bearer(settings, catalogue.staff["city"]),
        "an admin": bearer(settings, make_user(db, Role.admin)),
    }
    queries: list[dict[str, Any]] = [
        {},
        NEAREST,
        {"q": "pothole"},
        {"bbox": "100,13,101,14"},
        {"agency": catalogue.agencies["city"].id},
        {"limit": 2},
    ]
    for viewer, auth in viewers.items():
        for params in queries:
            for accept in ({}, GEOJSON):
                response = await client.get(
                    "/api/v1/issues", params=params, headers={**auth, **accept}
                )
                assert response.status_code == 200
                text = response.text.lower()
                leaked = [s for s in secrets if s.lower() in text]
                assert leaked == [], (viewer, params, accept)
                items: list[dict[str, Any]] = response.json().get("items") or [
                    f["properties"] for f in response.json()["features"]
                ]
                assert all(str(catalogue.reporter.id) != str(i.get("reporter_id")) for i in items)
    # Nor can the reporter be found by searching for them.
    for q in (REPORTER_EMAIL, "Somchai", DEVICE_ID):
        assert (await client.get("/api/v1/issues", params={"q": q})).json()["items"] == []


async def test_one_issue_read_by_the_public_names_no_reporter(
    client: httpx.AsyncClient, catalogue: Catalogue
) -> None:
    response = await client.get(f"/api/v1/issues/{catalogue.ids['silom']}")
    assert response.json()["reporter"] is None
    assert REPORTER_EMAIL not in response.text
    assert REPORTER_NAME not in response.text


async def test_internal_steps_are_not_in_the_public_timeline(
    client: httpx.AsyncClient, db: Session, settings: Settings, catalogue: Catalogue
) -> None:
    issue = catalogue.ids["silom"]  # acknowledged by city
    agent = bearer(settings, catalogue.staff["city"])
    started = await client.post(
        f"/api/v1/issues/{issue}/transitions",
        headers=await if_match(client, issue, agent),
        json={
            "action": "start",
            "note": "Crew booked; contractor quote 12,000 baht",
            "is_public": False,
        },
    )
    assert started.status_code == 200, started.text
    resolved = await client.post(
        f"/api/v1/issues/{issue}/transitions",
        headers=await if_match(client, issue, agent),
        json={"action": "resolve", "resolution": "fixed", "note": "Filled and levelled"},
    )
    assert resolved.status_code == 200, resolved.text

    def steps(events: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
        return [(e["action"], e["note"]) for e in events]

    for auth in ({}, bearer(settings, make_user(db))):
        public = (await client.get(f"/api/v1/issues/{issue}/events", headers=auth)).json()
        assert steps(public) == [
            ("reported", None),
            ("claimed", None),
            ("resolved", "Filled and levelled"),
        ]
        assert {e["actor"]["name"] for e in public} == {None}
        assert all(e["is_public"] for e in public)
    internal = (await client.get(f"/api/v1/issues/{issue}/events", headers=agent)).json()
    assert steps(internal) == [
        ("reported", None),
        ("claimed", None),
        ("started", "Crew booked; contractor quote 12,000 baht"),
        ("resolved", "Filled and levelled"),
    ]
    # Lists carry no notes at all, internal or not.
    listed = await client.get("/api/v1/issues", params={"q": "ถนนสีลม"})
    assert "contractor" not in listed.text
    assert "Filled and levelled" not in listed.text
