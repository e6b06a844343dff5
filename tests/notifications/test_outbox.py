"""Every status change, transfer and public staff note queues its messages in the same
transaction as the change: to the reporter, the followers, and the staff of an agency that
receives a new or transferred issue."""

from __future__ import annotations

import httpx
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import NotificationPreference, Role, Webhook
from tests.factories import IN_WEST, bearer, make_user
from tests.lifecycle.helpers import City, act, report
from tests.notifications.helpers import outbox, summary


async def test_a_new_report_tells_the_reporter_and_the_staff_of_every_candidate_agency(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    metro_manager = make_user(db, Role.manager, agency=city.metro)
    response = await client.post(
        "/api/v1/issues",
        headers=bearer(settings, city.reporter),
        json={
            "category": "pothole",
            "title": "Deep pothole",
            "latitude": IN_WEST[1],
            "longitude": IN_WEST[0],
        },
    )
    assert response.status_code == 201, response.text
    rows = outbox(database, response.json()["id"])
    assert summary(rows) == {
        (city.reporter.id, "email", "reporter", "issue_update"),
        (city.agent.id, "email", "agency", "agency_new_issue"),
        (city.rival.id, "email", "agency", "agency_new_issue"),
        (metro_manager.id, "email", "agency", "agency_new_issue"),
    }
    assert {r.destination for r in rows if r.reason == "reporter"} == {city.reporter.email}
    first = rows[0]
    assert first.status == "pending"
    assert first.attempts == 0
    assert len({r.message_id for r in rows}) == len(rows)
    assert first.payload["event"]["action"] == "reported"
    assert first.payload["issue"]["title"] == "Deep pothole"
    assert first.payload["issue"]["resolve_due_at"] is not None


async def test_each_status_change_reaches_the_reporter_and_followers_but_not_the_acting_staff(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    issue_id = report(db, database, city)
    follow = await client.post(
        f"/api/v1/issues/{issue_id}/follow", headers=bearer(settings, city.stranger)
    )
    assert follow.status_code == 200, follow.text
    before = len(outbox(database))
    assert (await act(client, settings, city.agent, issue_id, "claim")).status_code == 200
    rows = outbox(database)[before:]
    assert summary(rows) == {
        (city.reporter.id, "email", "reporter", "issue_update"),
        (city.stranger.id, "email", "follower", "issue_update"),
    }
    assert {r.payload["event"]["to_status"] for r in rows} == {"acknowledged"}
    assert {r.payload["issue"]["agency"]["slug"] for r in rows} == {"west"}


async def test_a_transfer_tells_the_receiving_agencys_staff(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    issue_id = report(db, database, city)
    assert (await act(client, settings, city.agent, issue_id, "claim")).status_code == 200
    before = len(outbox(database))
    response = await act(
        client,
        settings,
        city.agent,
        issue_id,
        "transfer",
        to_agency=city.east.id,
        note="East side of the road",
    )
    assert response.status_code == 200, response.text
    rows = outbox(database)[before:]
    assert summary(rows) == {
        (city.reporter.id, "email", "reporter", "issue_update"),
        (city.east_agent.id, "email", "agency", "agency_new_issue"),
    }
    assert {r.payload["event"]["note"] for r in rows} == {"East side of the road"}


async def test_an_internal_staff_note_queues_nothing_for_the_public(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    issue_id = report(db, database, city)
    assert (await act(client, settings, city.agent, issue_id, "claim")).status_code == 200
    before = len(outbox(database))
    response = await act(
        client, settings, city.agent, issue_id, "start", note="crew 7", is_public=False
    )
    assert response.status_code == 200, response.text
    assert outbox(database)[before:] == []


async def test_a_refused_step_queues_nothing(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    issue_id = report(db, database, city)
    assert (await act(client, settings, city.agent, issue_id, "claim")).status_code == 200
    before = len(outbox(database))
    response = await act(client, settings, city.agent, issue_id, "close")
    assert response.status_code == 409
    assert len(outbox(database)) == before


async def test_the_outbox_row_commits_only_with_the_change(
    settings: Settings, database: Database, db: Session, city: City
) -> None:
    """A change rolled back takes its messages with it: nothing is sent for what never happened."""
    from app.services import issues, lifecycle
    from app.services.lifecycle import Action

    issue_id = report(db, database, city)
    before = len(outbox(database))
    with database.session(write=True) as session:
        issue = issues.get_issue(session, issue_id)
        agent = session.get(type(city.agent), city.agent.id)
        assert agent is not None
        lifecycle.transition(
            session,
            issue=issue,
            action=Action.claim,
            actor=agent,
            expected_version=None,
            reopen_window=settings.reopen_window,
        )
        session.flush()
        assert len(outbox(database)) == before  # not visible before commit
        session.rollback()
    assert len(outbox(database)) == before


async def test_preferences_and_agency_webhooks_decide_the_channels(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    db.add(
        NotificationPreference(
            user_id=city.reporter.id, email=False, webpush=True, webhook=True, agency_alerts=True
        )
    )
    db.add(
        NotificationPreference(
            user_id=city.rival.id, email=True, webpush=True, webhook=True, agency_alerts=False
        )
    )
    hook = Webhook(
        owner_id=city.agent.id,
        agency_id=city.west.id,
        url="https://west.example/hook",
        secret="s" * 32,
    )
    db.add(hook)
    db.commit()
    issue_id = report(db, database, city)
    assert summary(outbox(database, issue_id)) == {
        (city.agent.id, "email", "agency", "agency_new_issue"),
        (None, "webhook", "webhook", "webhook_event"),
    }
