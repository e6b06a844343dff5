"""The demo city over HTTP: real Traffy Fondue positions reach the right Bangkok queues."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.demo import DEMO_EMAIL_DOMAIN, load_demo_city
from app.models import Agency
from tests.factories import if_match
from tests.spatial.bangkok import OUTSIDE, WELL_INSIDE, Report

PASSWORD = "demo-password-for-tests"
DEVICE = {"X-Device-Id": "3f2a9c1e-routing-test-device"}


async def _login(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def _report(client: httpx.AsyncClient, category: str, report: Report) -> str:
    response = await client.post(
        "/api/v1/issues",
        headers=DEVICE,
        json={
            "category": category,
            "title": f"Traffy {report.ticket}",
            "latitude": report.lat,
            "longitude": report.lon,
        },
    )
    assert response.status_code == 201, response.text
    public_id: str = response.json()["id"]
    return public_id


async def _queue(client: httpx.AsyncClient, agency_id: int, headers: dict[str, str]) -> list[str]:
    response = await client.get(f"/api/v1/agencies/{agency_id}/queue", headers=headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def test_a_flood_in_samphanthawong_reaches_the_district_and_the_drainage_department(
    client: httpx.AsyncClient, db: Session
) -> None:
    load_demo_city(db, password=PASSWORD)
    db.commit()
    ids = {a.slug: a.id for a in db.scalars(select(Agency))}
    [samphanthawong] = [r for r in WELL_INSIDE if r.recorded_district == "Samphanthawong"]
    flood = await _report(client, "flooding", samphanthawong)

    district = await _login(client, f"agent.district-samphanthawong@{DEMO_EMAIL_DOMAIN}")
    drainage = await _login(client, f"agent.bma-drainage@{DEMO_EMAIL_DOMAIN}")
    neighbour = await _login(client, f"agent.district-bang-rak@{DEMO_EMAIL_DOMAIN}")
    assert await _queue(client, ids["district-samphanthawong"], district) == [flood]
    assert await _queue(client, ids["bma-drainage"], drainage) == [flood]
    assert await _queue(client, ids["district-bang-rak"], neighbour) == []

    claimed = await client.post(
        f"/api/v1/issues/{flood}/transitions",
        headers=await if_match(client, flood, drainage),
        json={"action": "claim"},
    )
    assert claimed.status_code == 200, claimed.text
    assert await _queue(client, ids["district-samphanthawong"], district) == []
    assert await _queue(client, ids["bma-drainage"], drainage) == [flood]


async def test_a_report_from_outside_bangkok_waits_for_the_demo_admin(
    client: httpx.AsyncClient, db: Session
) -> None:
    load_demo_city(db, password=PASSWORD)
    db.commit()
    samut_prakan = OUTSIDE[1]
    lost = await _report(client, "pothole", samut_prakan)
    admin = await _login(client, f"admin@{DEMO_EMAIL_DOMAIN}")
    response = await client.get("/api/v1/issues/unrouted", headers=admin)
    assert [item["id"] for item in response.json()["items"]] == [lost]
