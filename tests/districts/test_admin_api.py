"""Districts through the admin API: GeoJSON Feature or FeatureCollection in and out; invalid
polygons repaired when only one repair is possible (the answer says so), refused with the
reason otherwise, all or none."""

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


# Two parts that overlap: their union, or only where exactly one of them lies? Not for us to say.
OVERLAPPING = {
    "type": "MultiPolygon",
    "coordinates": [
        [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]],
        [[[1, 1], [3, 1], [3, 3], [1, 3], [1, 1]]],
    ],
}


async def test_a_polygon_that_cannot_be_repaired_one_way_refuses_the_whole_body(
    client: httpx.AsyncClient, db: Session, settings: Settings
) -> None:
    admin = bearer(settings, make_user(db, Role.admin))
    overlapping = _feature("both", WEST_DISTRICT)
    overlapping["geometry"] = OVERLAPPING
    no_name = _feature("east", EAST_DISTRICT)
    no_name["properties"]["names"] = {"es": "Este"}
    body = {
        "type": "FeatureCollection",
        "features": [_feature("west", WEST_DISTRICT), overlapping, no_name],
    }
    answers = {}
    for lang in ("en", "th"):
        response = await client.put(
            "/api/v1/districts", headers={**admin, "Accept-Language": lang}, json=body
        )
        assert response.status_code == 422
        assert response.headers["content-type"].startswith("application/problem+json")
        problems = {p["location"]: p["message"] for p in response.json()["errors"]}
        answers[lang] = problems["body.features[1].geometry"]
        assert "Self-intersection" in answers[lang]
        assert "default language (en)" in problems["body.features[2].properties.names"]
    assert "more than one way" in answers["en"]
    assert "ซ่อมได้มากกว่าหนึ่งแบบ" in answers["th"]
    assert (await client.get("/api/v1/districts")).json()["features"] == []


async def test_a_ring_that_crosses_itself_is_repaired_and_the_answer_says_so(
    client: httpx.AsyncClient, db: Session, settings: Settings
) -> None:
    admin = bearer(settings, make_user(db, Role.admin))
    make_category(db, "pothole")
    # A bow tie over the east district: two triangles meeting at the district's centre.
    w, s, e, n = EAST_DISTRICT
    bowtie = _feature("east", EAST_DISTRICT)
    bowtie["geometry"]["coordinates"] = [[[w, s], [e, n], [e, s], [w, n], [w, s]]]
    response = await client.put("/api/v1/districts", headers=admin, json=bowtie)
    assert response.status_code == 200, response.text
    [stored] = response.json()["features"]
    assert "Self-intersection" in stored["properties"]["repaired"]
    assert stored["geometry"]["type"] == "MultiPolygon"
    assert len(stored["geometry"]["coordinates"]) == 2  # the two triangles
    # Read again, the district is just valid: the repair was said once, in the answer.
    again = (await client.get("/api/v1/districts/east")).json()
    assert "repaired" not in again["properties"]
    assert again["geometry"] == stored["geometry"]
    # A report in the right-hand triangle is placed in it.
    report = await client.post(
        "/api/v1/issues",
        headers={"X-Device-Id": "district-repair-device", "Accept-Language": "en"},
        json={
            "category": "pothole",
            "title": "Hole",
            "longitude": e - 0.001,
            "latitude": (s + n) / 2,
        },
    )
    assert report.status_code == 201, report.text
    assert report.json()["district"]["code"] == "east"


async def test_only_admins_write_districts(
    client: httpx.AsyncClient, db: Session, settings: Settings
) -> None:
    citizen = bearer(settings, make_user(db))
    response = await client.put(
        "/api/v1/districts", headers=citizen, json=_feature("west", WEST_DISTRICT)
    )
    assert response.status_code == 403
