"""Whom to call is set per jurisdiction: an admin (or the city file) gives the city's number and
a district's own; a report stopped as an emergency is told its point's number on every channel,
the district's first, else the city's, else the deployment's setting."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import city
from app.config import Settings
from app.models import City, District, Role
from app.spatial import backend_for
from tests.city.conftest import NYC_YAML
from tests.conftest import AppFor, http_client
from tests.emergencies.test_emergency_stop import DEVICE, report
from tests.factories import (
    EAST_DISTRICT,
    IN_EAST,
    IN_WEST,
    WEST_DISTRICT,
    bearer,
    make_agency,
    make_api_key,
    make_category,
    make_district,
    make_user,
)
from tests.web.conftest import csrf_of, field_of


@pytest.fixture
def app(settings: Settings, app_for: AppFor) -> FastAPI:
    return app_for(settings.model_copy(update={"emergency_number": "191"}))


@pytest.fixture
def bangkok(db: Session) -> None:
    """A city (as its file made it) with two districts and an emergency category."""
    db.add(
        City(
            names={"en": "Bangkok"},
            default_language="th",
            languages=["th", "en"],
            time_zone="Asia/Bangkok",
            general_category_code="general",
        )
    )
    make_district(db, "west", WEST_DISTRICT)
    make_district(db, "east", EAST_DISTRICT)
    gas = make_category(db, "gas_leak")
    gas.emergency = True
    db.commit()
    make_agency(db, categories=[gas])


async def _set(
    client: httpx.AsyncClient, settings: Settings, db: Session, body: object
) -> httpx.Response:
    admin = make_user(db, Role.admin)
    return await client.patch(
        "/api/v1/emergency-numbers", headers=bearer(settings, admin), json=body
    )


async def _stopped_with(client: httpx.AsyncClient, at: tuple[float, float]) -> str | None:
    response = await client.post("/api/v1/issues", headers=DEVICE, json=report(at, "gas_leak"))
    assert response.status_code == 422, response.text
    number: str | None = response.json().get("emergency_number")
    return number


@pytest.mark.usefixtures("bangkok")
async def test_an_admin_sets_the_city_and_district_numbers_and_every_channel_tells_them(
    db: Session, app: FastAPI, settings: Settings
) -> None:
    async with http_client(app) as client:
        assert await _stopped_with(client, IN_WEST) == "191"  # only the deployment's so far
        answer = await _set(client, settings, db, {"city": "1555", "districts": {"west": "1669"}})
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"city": "1555", "districts": {"west": "1669"}}
        read = await client.get("/api/v1/emergency-numbers")  # anyone may read them
        assert read.json() == answer.json()

        # The JSON API.
        assert await _stopped_with(client, IN_WEST) == "1669"
        assert await _stopped_with(client, IN_EAST) == "1555"
        # Open311.
        form = {
            "api_key": make_api_key(db, make_user(db, Role.citizen)),
            "service_code": "gas_leak",
            "lat": str(IN_EAST[1]),
            "long": str(IN_EAST[0]),
            "description": "Smell of gas",
        }
        open311 = await client.post("/open311/v2/requests.json", data=form)
        assert open311.status_code == 400, open311.text
        assert "call 1555 now" in open311.json()[0]["description"]

    # The report page.
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://test") as browser:
        page = (await browser.get("/report")).text
        form = {
            "csrf_token": csrf_of(page),
            "idempotency_key": field_of(page, "idempotency_key"),
            "latitude": str(IN_WEST[1]),
            "longitude": str(IN_WEST[0]),
            "category": "gas_leak",
            "title": "Smell of gas",
        }
        stopped = await browser.post("/report", data=form)
        assert stopped.status_code == 422, stopped.text
        assert 'href="tel:1669"' in stopped.text


@pytest.mark.usefixtures("bangkok")
async def test_removing_a_district_number_falls_back_to_the_city_then_the_setting(
    db: Session, app: FastAPI, settings: Settings
) -> None:
    async with http_client(app) as client:
        await _set(client, settings, db, {"city": "1555", "districts": {"west": "1669"}})
        cleared = await _set(client, settings, db, {"districts": {"west": None}})
        assert cleared.json() == {"city": "1555", "districts": {}}  # the city's number kept
        assert await _stopped_with(client, IN_WEST) == "1555"
        await _set(client, settings, db, {"city": None})
        assert await _stopped_with(client, IN_WEST) == "191"


@pytest.mark.usefixtures("bangkok")
async def test_bad_numbers_and_unknown_districts_are_refused_naming_the_field(
    db: Session, app: FastAPI, settings: Settings
) -> None:
    async with http_client(app) as client:
        unknown = await _set(client, settings, db, {"city": "1555", "districts": {"north": "1"}})
        assert unknown.status_code == 422, unknown.text
        assert [e["location"] for e in unknown.json()["errors"]] == ["body.districts.north"]
        assert unknown.headers["content-type"].startswith("application/problem+json")
        letters = await _set(client, settings, db, {"districts": {"west": "call me"}})
        assert letters.status_code == 422, letters.text
        assert (await client.get("/api/v1/emergency-numbers")).json()["city"] == "191"  # none
        citizen = make_user(db, Role.citizen)
        refused = await client.patch(
            "/api/v1/emergency-numbers",
            headers=bearer(settings, citizen),
            json={"city": "1555"},
        )
        assert refused.status_code == 403


async def test_before_a_city_file_the_citys_number_is_the_setting_and_cannot_be_set(
    db: Session, app: FastAPI, settings: Settings
) -> None:
    async with http_client(app) as client:
        refused = await _set(client, settings, db, {"city": "1555"})
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["location"] == "body.city"
        assert "civicloop city apply" in refused.json()["errors"][0]["message"]


def test_the_city_file_sets_the_city_and_district_numbers(db: Session, tmp_path: Path) -> None:
    text = NYC_YAML.replace(
        "  time_zone: America/New_York\n",
        "  time_zone: America/New_York\n  emergency_number: '911'\n",
    ).replace(
        "  name_property: communityDistrict\n",
        "  name_property: communityDistrict\n  emergency_numbers: {'101': '311 1'}\n",
    )
    path = tmp_path / "nyc.yaml"
    path.write_text(text, encoding="utf-8")
    city.apply(db, city=city.load(path), spatial=backend_for(db.get_bind().engine))
    db.commit()
    assert db.scalar(select(City.emergency_number)) == "911"
    numbers = dict(db.execute(select(District.code, District.emergency_number)).all())
    assert numbers["101"] == "311 1"
    assert numbers["102"] is None
    # A number for a district the file does not have is a mistake in the file.
    path.write_text(text.replace("'101': '311 1'", "'999': '311 1'"), encoding="utf-8")
    with pytest.raises(city.CityFileError) as refused:
        city.load(path)
    assert any("no district '999'" in str(p) for p in refused.value.problems)
