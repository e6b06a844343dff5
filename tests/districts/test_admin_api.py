"""Districts through the admin API: GeoJSON Feature or FeatureCollection in and out; bad
polygons refused with the reason, all or none."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import Role
from tests.factories import EAST_DISTRICT, IN_EAST, WEST_DISTRICT, bearer, make_category, make_user


def _feature(code: str, bounds: tuple[float, float, float, float], **names: str) -> dict[str, Any]:
    w, s, e, n = bounds
    return {
        "type": "Feature",
        "id": code,
        "geometry": {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]},
        "properties": {"names": names or {"en": code.title()}},
    }


async def test_districts_go_in_as_geojson_and_come_out_as_geojson(
    client: httpx.AsyncClient, db: Session, settings: Settings
) -> None:
    admin = bearer(settings, make_user(db, Role.admin))
    collection = {
        "type": "FeatureCollection",
        "features": [
            _feature("west", WEST_DISTRICT),
            _feature("east", EAST_DISTRICT, en="East", th="ตะวันออก"),
        ],
    }
    put = await client.put(
        "/api/v1/districts",
        headers={**admin, "Content-Type": "application/geo+json"},
        json=collection,
    )
    assert put.status_code == 200, put.text
    assert put.headers["content-type"] == "application/geo+json"
    listed = (await client.get("/api/v1/districts")).json()
    assert listed["type"] == "FeatureCollection"
    assert [f["id"] for f in listed["features"]] == ["east", "west"]
    east = (await client.get("/api/v1/districts/east")).json()
    assert east["properties"] == {
        "code": "east",
        "name_th": "ตะวันออก",
        "name_en": "East",
        "names": {"en": "East", "th": "ตะวันออก"},
    }
    assert east["geometry"]["type"] == "MultiPolygon"

    # One Feature updates one district; reports from now on are placed with it.
    renamed = _feature("east", EAST_DISTRICT, en="East Side")
    assert (await client.put("/api/v1/districts", headers=admin, json=renamed)).status_code == 200
    make_category(db, "pothole")
    report = await client.post(
        "/api/v1/issues",
        headers={"X-Device-Id": "district-api-device", "Accept-Language": "en"},
        json={
            "category": "pothole",
            "title": "Hole",
            "longitude": IN_EAST[0],
            "latitude": IN_EAST[1],
        },
    )
    assert report.json()["district"]["name"] == "East Side"
    assert (await client.get("/api/v1/districts/north")).status_code == 404


async def test_a_bad_polygon_refuses_the_whole_body(
    client: httpx.AsyncClient, db: Session, settings: Settings
) -> None:
    admin = bearer(settings, make_user(db, Role.admin))
    bowtie = _feature("bow", WEST_DISTRICT)
    bowtie["geometry"]["coordinates"] = [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]
    no_name = _feature("east", EAST_DISTRICT)
    no_name["properties"]["names"] = {"es": "Este"}
    body = {
        "type": "FeatureCollection",
        "features": [_feature("west", WEST_DISTRICT), bowtie, no_name],
    }
    response = await client.put("/api/v1/districts", headers=admin, json=body)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problems = {p["location"]: p["message"] for p in response.json()["errors"]}
    assert "Self-intersection" in problems["body.features[1].geometry"]
    assert "default language (en)" in problems["body.features[2].properties.names"]
    assert (await client.get("/api/v1/districts")).json()["features"] == []


async def test_only_admins_write_districts(
    client: httpx.AsyncClient, db: Session, settings: Settings
) -> None:
    citizen = bearer(settings, make_user(db))
    response = await client.put(
        "/api/v1/districts", headers=citizen, json=_feature("west", WEST_DISTRICT)
    )
    assert response.status_code == 403
