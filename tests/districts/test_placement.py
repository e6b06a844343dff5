"""Every report is placed in its district when it is made, and the district is part of the issue
in the JSON API and in Open311 (extensions); a point on a shared border goes to the district
whose code sorts first, whichever was loaded first. Reports nobody handles there wait in triage
and say so."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import Issue, Role
from app.services import catalog
from tests.factories import (
    EAST_DISTRICT,
    IN_EAST,
    IN_WEST,
    OUTSIDE,
    WEST_DISTRICT,
    bearer,
    make_agency,
    make_category,
    make_district,
    make_user,
)

DEVICE = {"X-Device-Id": "placement-test-device-0001", "Accept-Language": "en"}


async def _report(
    client: httpx.AsyncClient, category: str, at: tuple[float, float]
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/issues",
        headers=DEVICE,
        json={"category": category, "title": "Broken kerb", "longitude": at[0], "latitude": at[1]},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_report_names_its_district_in_the_api_and_in_open311(
    client: httpx.AsyncClient, db: Session
) -> None:
    make_district(db, "west", WEST_DISTRICT)
    make_district(db, "east", EAST_DISTRICT)
    pothole = make_category(db, "pothole")
    make_agency(db, bounds=WEST_DISTRICT, categories=[pothole])

    created = await _report(client, "pothole", IN_EAST)
    assert created["district"] == {
        "code": "east",
        "name_th": "east",
        "name_en": "East",
        "name": "East",
    }
    read = (await client.get(f"/api/v1/issues/{created['id']}")).json()
    assert read["district"]["code"] == "east"
    listed = (await client.get("/api/v1/issues")).json()["items"]
    assert [i["district"]["code"] for i in listed] == ["east"]
    by_district = (await client.get("/api/v1/issues", params={"district": "west"})).json()
    assert by_district["items"] == []

    open311 = await client.get(
        f"/open311/v2/requests/{created['id']}.json", params={"extensions": "true"}
    )
    assert open311.status_code == 200, open311.text
    assert open311.json()[0]["extended_attributes"]["district"] == "east"
    stored = db.scalar(select(Issue.district_id))
    assert stored is not None


async def test_outside_every_district_the_district_is_null(
    client: httpx.AsyncClient, db: Session
) -> None:
    make_district(db, "west", WEST_DISTRICT)
    make_category(db, "pothole")
    created = await _report(client, "pothole", OUTSIDE)
    assert created["district"] is None


async def test_a_point_on_a_shared_border_goes_to_the_district_whose_code_sorts_first(
    client: httpx.AsyncClient, db: Session
) -> None:
    # Loaded in the opposite order of their codes: the id does not decide, the code does.
    make_district(db, "zeta", EAST_DISTRICT)
    make_district(db, "alpha", WEST_DISTRICT)
    make_category(db, "pothole")
    on_border = (WEST_DISTRICT[2], 13.72)
    created = await _report(client, "pothole", on_border)
    assert created["district"]["code"] == "alpha"
    inside_zeta = await _report(client, "pothole", IN_EAST)
    assert inside_zeta["district"]["code"] == "zeta"


async def test_a_report_nobody_handles_there_waits_in_triage_with_a_notice(
    client: httpx.AsyncClient, db: Session, settings: Settings
) -> None:
    pothole = make_category(db, "pothole")
    make_agency(db, bounds=WEST_DISTRICT, categories=[pothole])
    admin = bearer(settings, make_user(db, Role.admin))

    handled = await _report(client, "pothole", IN_WEST)
    assert handled["triage"] is False
    assert handled["notice"] is None

    elsewhere = await _report(client, "pothole", IN_EAST)
    assert elsewhere["triage"] is True
    assert "triage queue" in elsewhere["notice"]
    thai = await client.get(f"/api/v1/issues/{elsewhere['id']}", headers={"Accept-Language": "th"})
    assert "คิวคัดแยก" in thai.json()["notice"]

    queue = await client.get("/api/v1/issues/unrouted", headers=admin)
    assert [i["id"] for i in queue.json()["items"]] == [elsewhere["id"]]


async def test_every_city_has_a_general_category_whose_reports_go_to_triage(
    client: httpx.AsyncClient, db: Session
) -> None:
    general = catalog.general_category(db)
    db.commit()
    assert general.code == "general"
    assert catalog.general_category(db).id == general.id  # made once

    listed = (await client.get("/api/v1/categories")).json()
    assert "general" in [c["code"] for c in listed]
    created = await _report(client, "general", IN_WEST)
    assert created["category"]["code"] == "general"
    assert created["triage"] is True
