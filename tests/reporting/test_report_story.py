"""A citizen reports; the covering agency sees it, claims, starts, resolves; the reporter
follows every step on the timeline."""

from __future__ import annotations

import httpx
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import Role
from tests.factories import IN_WEST, bearer, if_match, make_agency, make_category, make_user


async def test_report_to_resolution(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings
) -> None:
    light = make_category(db, "streetlight")
    west = make_agency(db, categories=[light])
    agent = make_user(db, Role.agent, agency=west)
    citizen = make_user(db)

    created = await client.post(
        "/api/v1/issues",
        headers=bearer(settings, citizen),
        json={
            "category": "streetlight",
            "title": "Lamp out on Soi 5",
            "latitude": IN_WEST[1],
            "longitude": IN_WEST[0],
        },
    )
    assert created.status_code == 201, created.text
    issue = created.json()
    assert issue["status"] == "open"
    assert created.headers["location"].endswith(f"/api/v1/issues/{issue['id']}")

    queue = await client.get(f"/api/v1/agencies/{west.id}/queue", headers=bearer(settings, agent))
    assert [i["id"] for i in queue.json()["items"]] == [issue["id"]]
    assert queue.json()["items"][0]["allowed_actions"] == ["claim"]

    for action, body, status in (
        ("claim", {}, "acknowledged"),
        ("start", {}, "in_progress"),
        ("resolve", {"resolution": "fixed", "note": "New lamp fitted"}, "resolved"),
    ):
        moved = await client.post(
            f"/api/v1/issues/{issue['id']}/transitions",
            headers=await if_match(client, issue["id"], bearer(settings, agent)),
            json={"action": action, **body},
        )
        assert moved.status_code == 200, moved.text
        assert moved.json()["status"] == status

    timeline = await client.get(
        f"/api/v1/issues/{issue['id']}/events", headers=bearer(settings, citizen)
    )
    steps = [(e["action"], e["from_status"], e["to_status"]) for e in timeline.json()]
    assert steps == [
        ("reported", None, "open"),
        ("claimed", "open", "acknowledged"),
        ("started", "acknowledged", "in_progress"),
        ("resolved", "in_progress", "resolved"),
    ]
    assert timeline.json()[-1]["note"] == "New lamp fitted"
    assert timeline.json()[-1]["resolution"] == "fixed"
