"""Per issue, what was sent to whom (staff) and "we told you on ..." (the reporter); messages
that could not be delivered are visible to staff and admins, who can send them again."""

from __future__ import annotations

import httpx
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import Role, Webhook
from tests.factories import bearer, make_user
from tests.lifecycle.helpers import City, act, report
from tests.notifications.helpers import delivered_mail, drain, outbox
from tests.notifications.receivers import HttpReceiver, http_receiver


async def test_staff_see_every_message_and_the_reporter_what_reached_them(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    issue_id = report(db, database, city)
    delivered_mail(database, settings)
    assert (await act(client, settings, city.agent, issue_id, "claim")).status_code == 200
    path = f"/api/v1/issues/{issue_id}/notifications"

    staff = (await client.get(path, headers=bearer(settings, city.agent))).json()
    assert staff["complete"] is True
    assert [(e["reason"], e["action"], e["status"]) for e in staff["entries"]] == [
        ("reporter", "reported", "sent"),
        ("agency", "reported", "sent"),
        ("agency", "reported", "sent"),
        ("reporter", "claimed", "pending"),
    ]
    assert staff["entries"][0]["attempts"] == 1

    mine = (await client.get(path, headers=bearer(settings, city.reporter))).json()
    assert mine["complete"] is False
    assert [(e["action"], e["channel"], e["destination"]) for e in mine["entries"]] == [
        ("reported", "email", city.reporter.email)
    ]
    assert mine["entries"][0]["sent_at"] is not None
    assert mine["entries"][0]["attempts"] is None

    stranger = (await client.get(path, headers=bearer(settings, city.stranger))).json()
    assert stranger["entries"] == []
    assert (await client.get(path)).status_code == 403


async def test_dead_letters_are_listed_for_the_agency_and_can_be_retried(
    client: httpx.AsyncClient,
    loopback_settings: Settings,
    settings: Settings,
    database: Database,
    db: Session,
    city: City,
) -> None:
    receiver = HttpReceiver(script=[404])  # refuses once (not retried), accepts after
    with http_receiver(receiver) as base:
        db.add(
            Webhook(
                owner_id=city.agent.id, agency_id=city.west.id, url=f"{base}/h", secret="whsec_x"
            )
        )
        db.commit()
        issue_id = report(db, database, city)
        drain(database, loopback_settings)
        dead = [r for r in outbox(database, issue_id) if r.status == "dead"]
        # The webhook refused, and e-mail is not configured in these settings.
        assert {r.channel for r in dead} == {"webhook", "email"}
        hook = next(r for r in dead if r.channel == "webhook")

        listed = await client.get(
            "/api/v1/notifications/dead", headers=bearer(settings, city.agent)
        )
        assert listed.status_code == 200, listed.text
        entry = next(e for e in listed.json() if e["id"] == hook.id)
        assert entry["issue"] == issue_id
        assert entry["last_error"].endswith("answered 404")
        east = await client.get(
            "/api/v1/notifications/dead", headers=bearer(settings, city.east_agent)
        )
        assert [e["id"] for e in east.json()] == []
        assert (
            await client.get("/api/v1/notifications/dead", headers=bearer(settings, city.reporter))
        ).status_code == 403

        refused = await client.post(
            f"/api/v1/notifications/{hook.id}/retry", headers=bearer(settings, city.east_agent)
        )
        assert refused.status_code == 404
        retried = await client.post(
            f"/api/v1/notifications/{hook.id}/retry", headers=bearer(settings, city.admin)
        )
        assert retried.status_code == 200, retried.text
        assert (retried.json()["status"], retried.json()["attempts"]) == ("pending", 0)
        again = await client.post(
            f"/api/v1/notifications/{hook.id}/retry", headers=bearer(settings, city.admin)
        )
        assert again.status_code == 409
        drain(database, loopback_settings)
    delivered = next(r for r in outbox(database, issue_id) if r.id == hook.id)
    assert delivered.status == "sent"
    # Refused, then accepted: the receiver saw the same message id both times.
    assert [r.headers["webhook-id"] for r in receiver.received] == [hook.message_id] * 2


async def test_a_manager_lists_and_removes_the_agencys_webhooks(
    client: httpx.AsyncClient, settings: Settings, db: Session, city: City
) -> None:
    manager = make_user(db, Role.manager, agency=city.west)
    db.add(
        Webhook(
            owner_id=city.admin.id, agency_id=city.west.id, url="https://a.example/h", secret="s"
        )
    )
    db.add(
        Webhook(
            owner_id=city.admin.id, agency_id=city.east.id, url="https://b.example/h", secret="s"
        )
    )
    db.commit()
    listed = (await client.get("/api/v1/webhooks", headers=bearer(settings, manager))).json()
    assert [h["url"] for h in listed] == ["https://a.example/h"]
    assert "secret" not in listed[0]
    hook_id = listed[0]["id"]
    assert (
        await client.delete(f"/api/v1/webhooks/{hook_id}", headers=bearer(settings, city.agent))
    ).status_code == 404
    assert (
        await client.delete(f"/api/v1/webhooks/{hook_id}", headers=bearer(settings, manager))
    ).status_code == 204
