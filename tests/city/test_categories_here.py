"""Categories where the point is: the JSON API and the Open311 service list offer only what
some agency covering the point handles, and the general category."""

from __future__ import annotations

from pathlib import Path

import defusedxml.ElementTree as ET
import httpx
from sqlalchemy.orm import Session

from app import city
from app.spatial import backend_for
from tests.city.conftest import IN_101, IN_301, IN_THE_ATLANTIC


def _apply(db: Session, path: Path) -> None:
    city.apply(db, city=city.load(path), spatial=backend_for(db.get_bind().engine))
    db.commit()


async def _codes(client: httpx.AsyncClient, at: tuple[float, float] | None) -> list[str]:
    params = {} if at is None else {"lon": at[0], "lat": at[1]}
    response = await client.get("/api/v1/categories", params=params)
    assert response.status_code == 200, response.text
    return [c["code"] for c in response.json()]


async def test_the_api_offers_what_is_handled_at_the_point(
    client: httpx.AsyncClient, db: Session, nyc_file: Path
) -> None:
    _apply(db, nyc_file)
    everything = ["general", "noise", "pothole", "street-light"]
    assert sorted(await _codes(client, None)) == everything
    assert sorted(await _codes(client, IN_101)) == everything
    # Noise is for the Lower Manhattan boards only.
    assert sorted(await _codes(client, IN_301)) == ["general", "pothole", "street-light"]
    assert await _codes(client, IN_THE_ATLANTIC) == ["general"]


async def test_the_open311_service_list_takes_lat_and_long(
    client: httpx.AsyncClient, db: Session, nyc_file: Path
) -> None:
    _apply(db, nyc_file)
    here = {"long": IN_301[0], "lat": IN_301[1]}
    as_json = await client.get("/open311/v2/services.json", params=here)
    assert as_json.status_code == 200, as_json.text
    assert sorted(s["service_code"] for s in as_json.json()) == [
        "general",
        "pothole",
        "street-light",
    ]
    as_xml = await client.get("/open311/v2/services.xml", params=here)
    codes = [e.text or "" for e in ET.fromstring(as_xml.text).iter("service_code")]
    assert sorted(codes) == ["general", "pothole", "street-light"]


async def test_a_point_needs_both_coordinates(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/categories", params={"lat": 40.7})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["location"] == "query.lon"
    open311 = await client.get("/open311/v2/services.json", params={"lat": "40.7"})
    assert open311.status_code == 400
    assert open311.json()[0]["description"] == "lat and long go together."
