"""A category can be reviewed before publishing: its reports are seen only by their reporter,
the agencies they were routed to and admins until staff approve them (as they are, or edited);
a rejected report is never published, and its reporter is told why, in their language."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy.orm import Session

from app import city as city_file
from app.config import Settings
from app.db import Database
from app.models import Language, User
from app.spatial import backend_for
from tests.city.conftest import IN_101, NYC_YAML
from tests.factories import IN_WEST, bearer, make_user
from tests.lifecycle.helpers import City, report, stored_issue
from tests.moderation.surfaces import STRANGER_DEVICE, public_ids, public_text
from tests.notifications.helpers import drain, outbox
from tests.notifications.receivers import SmtpServer, free_port

TITLE = "Gate of house 12 left open by the Somchai family"


async def review_category(client: httpx.AsyncClient, settings: Settings, city: City) -> None:
    """The admin turns review on for the city's pothole category."""
    patched = await client.patch(
        f"/api/v1/categories/{city.category.code}",
        headers=bearer(settings, city.admin),
        json={"review_before_publish": True},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["review_before_publish"] is True


async def report_for_review(client: httpx.AsyncClient, settings: Settings, city: City) -> str:
    made = await client.post(
        "/api/v1/issues",
        headers=bearer(settings, city.reporter),
        json={
            "category": city.category.code,
            "title": TITLE,
            "description": "Somchai, phone 081 234 5678, never closes it",
            "longitude": IN_WEST[0],
            "latitude": IN_WEST[1],
        },
    )
    assert made.status_code == 201, made.text
    assert made.json()["review"] == "pending"
    issue_id: str = made.json()["id"]
    return issue_id


async def decide(
    client: httpx.AsyncClient, settings: Settings, user: User, issue_id: str, **body: object
) -> httpx.Response:
    return await client.post(
        f"/api/v1/issues/{issue_id}/review", headers=bearer(settings, user), json=body
    )


async def test_a_report_awaiting_review_is_on_no_public_surface(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    public = report(db, database, city)  # made before review was turned on: public at once
    await review_category(client, settings, city)
    pending = await report_for_review(client, settings, city)

    assert await public_ids(client) == {
        surface: [public] for surface in ("list", "geo", "open311", "ndjson", "csv", "geojson")
    }
    seen = await public_text(client, pending)
    assert pending not in seen
    assert "Somchai" not in seen
    for headers in (STRANGER_DEVICE, bearer(settings, city.stranger)):
        read = await client.get(f"/api/v1/issues/{pending}", headers=headers)
        assert read.status_code == 404
        flagged = await client.post(
            f"/api/v1/issues/{pending}/flags", headers=headers, json={"reason": "abuse"}
        )
        assert flagged.status_code == 404
    # Its reporter, the agencies it was routed to and admins see it, marked as pending.
    for user in (city.reporter, city.agent, city.rival, city.admin):
        read = await client.get(f"/api/v1/issues/{pending}", headers=bearer(settings, user))
        assert read.status_code == 200, user
        assert read.json()["review"] == "pending"
    queue = await client.get(
        f"/api/v1/agencies/{city.west.id}/queue", headers=bearer(settings, city.agent)
    )
    assert pending in [i["id"] for i in queue.json()["items"]]


async def test_approving_publishes_it_and_tells_the_area_watchers(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    watcher = make_user(db)
    watched = await client.post(
        "/api/v1/watches",
        headers=bearer(settings, watcher),
        json={"latitude": IN_WEST[1], "longitude": IN_WEST[0], "radius_m": 500},
    )
    assert watched.status_code == 201, watched.text
    await review_category(client, settings, city)
    pending = await report_for_review(client, settings, city)
    assert [r for r in outbox(database, pending) if r.reason == "watcher"] == []

    approved = await decide(
        client,
        settings,
        city.agent,
        pending,
        decision="approve",
        title="Gate of a house left open",
        description="The gate is never closed",
    )
    assert approved.status_code == 200, approved.text
    assert approved.json() == {"issue": pending, "review": "approved", "status": "open"}
    assert (await public_ids(client))["list"] == [pending]
    seen = await public_text(client, pending)
    assert "Gate of a house left open" in seen
    assert "Somchai" not in seen
    assert "081 234 5678" not in seen
    watchers = [r for r in outbox(database, pending) if r.reason == "watcher"]
    assert [(r.recipient_user_id, r.template) for r in watchers] == [(watcher.id, "area_new_issue")]
    again = await decide(client, settings, city.rival, pending, decision="approve")
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"


async def test_a_rejected_report_stays_unpublished_and_its_reporter_is_told_why_in_thai(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    city.reporter.language = Language.th
    db.commit()
    await review_category(client, settings, city)
    pending = await report_for_review(client, settings, city)
    reason = "เป็นเรื่องส่วนตัวระหว่างเพื่อนบ้าน ไม่ใช่ปัญหาสาธารณะ"
    smtp = SmtpServer(free_port()).start()
    try:
        rejected = await decide(
            client, settings, city.rival, pending, decision="reject", reason=reason
        )
        assert rejected.status_code == 200, rejected.text
        assert rejected.json() == {"issue": pending, "review": "rejected", "status": "closed"}
        drain(
            database,
            settings.model_copy(
                update={
                    "smtp_host": "127.0.0.1",
                    "smtp_port": smtp.port,
                    "smtp_from": "civicloop <loop@city.example>",
                }
            ),
        )
    finally:
        smtp.stop()
    told = [
        m.get_content()
        for m in smtp.messages
        if m["To"] == city.reporter.email and "จะไม่เผยแพร่" in m.get_content()
    ]
    assert len(told) == 1
    assert "รายงานของคุณผ่านการตรวจสอบแล้วแต่จะไม่เผยแพร่" in told[0]
    assert reason in told[0]
    assert "Your report" not in told[0]
    stored = stored_issue(database, pending)
    assert (stored.review, stored.status, stored.resolution) == (
        "rejected",
        "closed",
        "not_actionable",
    )
    assert pending not in await public_text(client, pending)
    mine = await client.get(
        f"/api/v1/issues/{pending}/events", headers=bearer(settings, city.reporter)
    )
    assert [(e["action"], e["note"]) for e in mine.json()][-1] == ("review_rejected", reason)


async def test_only_the_routed_agencies_and_admins_decide_and_a_rejection_says_why(
    client: httpx.AsyncClient, settings: Settings, city: City
) -> None:
    await review_category(client, settings, city)
    pending = await report_for_review(client, settings, city)
    for user in (city.reporter, city.east_agent, city.stranger):
        refused = await decide(client, settings, user, pending, decision="approve")
        assert refused.status_code in (403, 404), user
        assert refused.headers["content-type"] == "application/problem+json"
    mute = await decide(client, settings, city.admin, pending, decision="reject")
    assert mute.status_code == 422
    assert mute.headers["content-type"] == "application/problem+json"
    assert "reason" in mute.text
    edited_rejection = await decide(
        client, settings, city.admin, pending, decision="reject", reason="no", title="Other"
    )
    assert edited_rejection.status_code == 422
    thai = await client.post(
        f"/api/v1/issues/{pending}/review",
        headers={**bearer(settings, city.reporter), "Accept-Language": "th"},
        json={"decision": "approve"},
    )
    assert thai.status_code == 403
    assert "เฉพาะเจ้าหน้าที่" in thai.json()["detail"]


async def test_a_category_without_review_publishes_at_once_and_cannot_be_reviewed(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    public = report(db, database, city)
    assert (await client.get(f"/api/v1/issues/{public}")).json()["review"] is None
    refused = await decide(client, settings, city.agent, public, decision="approve")
    assert refused.status_code == 409
    assert refused.json()["type"].endswith("not-awaiting-review")


async def test_a_city_file_turns_review_on_for_a_category(
    client: httpx.AsyncClient, db: Session, tmp_path: Path
) -> None:
    source = tmp_path / "nyc.yaml"
    source.write_text(
        NYC_YAML.replace(
            "    targets: {acknowledge_hours: 8, resolve_hours: 72}\n",
            "    targets: {acknowledge_hours: 8, resolve_hours: 72}\n"
            "    review_before_publish: true\n",
        ),
        encoding="utf-8",
    )
    changes = city_file.apply(
        db, city=city_file.load(source), spatial=backend_for(db.get_bind().engine)
    )
    db.commit()
    assert changes
    device = {"X-Device-Id": "nyc-moderation-test-device", "Accept-Language": "en"}
    made = {}
    for category in ("noise", "pothole"):
        response = await client.post(
            "/api/v1/issues",
            headers=device,
            json={
                "category": category,
                "title": "Loud",
                "longitude": IN_101[0],
                "latitude": IN_101[1],
            },
        )
        assert response.status_code == 201, response.text
        made[category] = response.json()
    assert (made["noise"]["review"], made["pothole"]["review"]) == ("pending", None)
    listed = await client.get("/api/v1/issues")
    assert [i["id"] for i in listed.json()["items"]] == [made["pothole"]["id"]]
    # The reporter's own device still reads it.
    assert (
        await client.get(f"/api/v1/issues/{made['noise']['id']}", headers=device)
    ).status_code == 200
