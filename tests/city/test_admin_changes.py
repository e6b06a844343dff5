"""The same through the admin API: an agency's jurisdiction changes and deactivation re-route
only open issues nobody has claimed (audited on their timelines); a deactivated category
accepts no new reports and keeps its history; bad polygons are refused clearly."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import EventAction, IssueEvent, Role
from tests.factories import (
    CITY,
    EAST_DISTRICT,
    IN_EAST,
    IN_WEST,
    WEST_DISTRICT,
    bearer,
    if_match,
    make_agency,
    make_category,
    make_user,
)

DEVICE = {"X-Device-Id": "admin-changes-test-device", "Accept-Language": "en"}


def _box(bounds: tuple[float, float, float, float]) -> dict[str, Any]:
    w, s, e, n = bounds
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


async def _report(client: httpx.AsyncClient, category: str, at: tuple[float, float]) -> str:
    response = await client.post(
        "/api/v1/issues",
        headers=DEVICE,
        json={"category": category, "title": "Pothole", "longitude": at[0], "latitude": at[1]},
    )
    assert response.status_code == 201, response.text
    public_id: str = response.json()["id"]
    return public_id


async def _queue(client: httpx.AsyncClient, agency_id: int, headers: dict[str, str]) -> list[str]:
    response = await client.get(f"/api/v1/agencies/{agency_id}/queue", headers=headers)
    assert response.status_code == 200, response.text
    return sorted(item["id"] for item in response.json()["items"])


async def test_a_new_jurisdiction_reroutes_only_open_unclaimed_issues(
    client: httpx.AsyncClient, db: Session, settings: Settings
) -> None:
    pothole = make_category(db, "pothole")
    west = make_agency(db, bounds=WEST_DISTRICT, categories=[pothole], slug="west")
    west_agent = bearer(settings, make_user(db, Role.agent, agency=west))
    admin = bearer(settings, make_user(db, Role.admin))
    claimed_in_west = await _report(client, "pothole", IN_WEST)
    waiting_in_west = await _report(client, "pothole", IN_WEST)
    waiting_in_east = await _report(client, "pothole", IN_EAST)  # in triage: nobody covers it
    claim = await client.post(
        f"/api/v1/issues/{claimed_in_west}/transitions",
        headers=await if_match(client, claimed_in_west, west_agent),
        json={"action": "claim"},
    )
    assert claim.status_code == 200, claim.text

    # The west agency now covers only the east district.
    moved = await client.patch(
        f"/api/v1/agencies/{west.id}", headers=admin, json={"jurisdiction": _box(EAST_DISTRICT)}
    )
    assert moved.status_code == 200, moved.text
    assert await _queue(client, west.id, west_agent) == sorted([claimed_in_west, waiting_in_east])
    triage = await client.get("/api/v1/issues/unrouted", headers=admin)
    assert [i["id"] for i in triage.json()["items"]] == [waiting_in_west]

    events = db.scalars(select(IssueEvent).where(IssueEvent.action == EventAction.rerouted)).all()
    notes = sorted(e.note or "" for e in events)
    assert notes == ["queues: triage -> west", "queues: west -> triage"]
    assert all(not e.is_public for e in events)
    timeline = await client.get(f"/api/v1/issues/{waiting_in_west}/events", headers=admin)
    assert timeline.json()[-1]["action"] == "rerouted"

    # Deactivated, it receives nothing new; the claimed issue stays its own.
    off = await client.patch(
        f"/api/v1/agencies/{west.id}", headers=admin, json={"is_active": False}
    )
    assert off.status_code == 200, off.text
    assert off.json()["is_active"] is False
    assert await _queue(client, west.id, west_agent) == [claimed_in_west]


async def test_only_admins_change_routing(
    client: httpx.AsyncClient, db: Session, settings: Settings
) -> None:
    pothole = make_category(db, "pothole")
    west = make_agency(db, bounds=WEST_DISTRICT, categories=[pothole])
    manager = bearer(settings, make_user(db, Role.manager, agency=west))
    response = await client.patch(
        f"/api/v1/agencies/{west.id}", headers=manager, json={"jurisdiction": _box(CITY)}
    )
    assert response.status_code == 403
    assert "Only admins" in response.json()["detail"]
    renamed = await client.patch(
        f"/api/v1/agencies/{west.id}", headers=manager, json={"name_en": "West Works"}
    )
    assert renamed.status_code == 200, renamed.text


async def test_a_self_intersecting_jurisdiction_is_refused_and_nothing_changes(
    client: httpx.AsyncClient, db: Session, settings: Settings
) -> None:
    pothole = make_category(db, "pothole")
    west = make_agency(db, bounds=WEST_DISTRICT, categories=[pothole])
    admin = bearer(settings, make_user(db, Role.admin))
    bowtie = {
        "type": "Polygon",
        "coordinates": [
            [[100.5, 13.7], [100.6, 13.75], [100.6, 13.7], [100.5, 13.75], [100.5, 13.7]]
        ],
    }
    response = await client.patch(
        f"/api/v1/agencies/{west.id}", headers=admin, json={"jurisdiction": bowtie}
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    [problem] = response.json()["errors"]
    assert problem["location"] == "body.jurisdiction"
    assert "Self-intersection" in problem["message"]
    shape = await client.get(f"/api/v1/agencies/{west.id}/jurisdiction")
    assert shape.json()["geometry"]["coordinates"][0][0][0] == [100.55, 13.7]


async def test_a_deactivated_category_takes_no_reports_and_keeps_its_history(
    client: httpx.AsyncClient, db: Session, settings: Settings
) -> None:
    pothole = make_category(db, "pothole")
    make_agency(db, bounds=WEST_DISTRICT, categories=[pothole])
    admin = bearer(settings, make_user(db, Role.admin))
    earlier = await _report(client, "pothole", IN_WEST)

    off = await client.patch("/api/v1/categories/pothole", headers=admin, json={"is_active": False})
    assert off.status_code == 200, off.text
    assert off.json()["is_active"] is False
    refused = await client.post(
        "/api/v1/issues",
        headers=DEVICE,
        json={"category": "pothole", "title": "Pothole", "longitude": 100.52, "latitude": 13.72},
    )
    assert refused.status_code == 422
    assert "pothole" in refused.json()["detail"]
    assert [c["code"] for c in (await client.get("/api/v1/categories")).json()] == []
    kept = await client.get(f"/api/v1/issues/{earlier}")
    assert kept.json()["category"]["code"] == "pothole"

    citizen = bearer(settings, make_user(db))
    assert (
        await client.patch("/api/v1/categories/pothole", headers=citizen, json={"is_active": True})
    ).status_code == 403
    bad = await client.patch(
        "/api/v1/categories/pothole", headers=admin, json={"resolve_target_hours": 1}
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["location"] == "body.resolve_target_hours"
    missing = await client.patch("/api/v1/categories/nope", headers=admin, json={"is_active": True})
    assert missing.status_code == 404
