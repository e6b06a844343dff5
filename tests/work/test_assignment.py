"""Assignment: managers give an issue of their agency to one of its staff, agents take or release
it for themselves, and the new assignee is told."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from sqlalchemy.orm import Session

from app import i18n
from app.config import Settings
from app.db import Database
from app.models import EventAction, Language, NotificationPreference, Role
from app.services.notifications import templates
from tests.factories import bearer, make_user
from tests.lifecycle.helpers import act, problem_type, stored_events, stored_issue
from tests.notifications.helpers import outbox
from tests.work.helpers import Office, assign, claimed_issue, new_issue


async def test_a_manager_assigns_an_agent_who_is_told_and_the_public_sees_no_name(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, office: Office
) -> None:
    issue_id = await claimed_issue(client, db, database, settings, office)
    before = stored_issue(database, issue_id).version

    response = await assign(client, settings, office.manager, issue_id, office.colleague.id)

    assert response.status_code == 200, response.text
    assert response.json()["assignee_id"] == office.colleague.id
    assert response.headers["ETag"] == f'"{before + 1}"'
    assert stored_issue(database, issue_id).assignee_id == office.colleague.id
    event = stored_events(database, issue_id)[-1]
    assert (event.action, event.assignee_id, event.actor_id, event.is_public) == (
        EventAction.assigned,
        office.colleague.id,
        office.manager.id,
        False,
    )
    told = [n for n in outbox(database, issue_id) if n.event_id == event.id]
    assert {(n.recipient_user_id, n.reason, n.template) for n in told} == {
        (office.colleague.id, "assignee", "issue_assigned")
    }
    # The public reads neither the assignee nor the step; the agency does.
    public = await client.get(f"/api/v1/issues/{issue_id}")
    assert public.json()["assignee_id"] is None
    timeline = await client.get(f"/api/v1/issues/{issue_id}/events")
    assert "assigned" not in [e["action"] for e in timeline.json()]
    staff_view = await client.get(
        f"/api/v1/issues/{issue_id}", headers=bearer(settings, office.agent)
    )
    assert staff_view.json()["assignee_id"] == office.colleague.id


@pytest.mark.parametrize("language", ["en", "th"])
def test_the_assignment_message_names_the_issue_in_the_assignees_language(
    language: str,
) -> None:
    payload = {
        "issue": {
            "id": "K7M3QX9PAB",
            "title": "Hole by the bus stop",
            "category": {"code": "pothole", "name_th": "หลุมบ่อ", "name_en": "Pothole"},
            "status": "acknowledged",
            "agency": {"id": 1, "slug": "west", "name_th": "ตะวันตก", "name_en": "West"},
            "acknowledge_due_at": "2026-11-26T08:00:00+00:00",
            "resolve_due_at": "2026-11-30T08:00:00+00:00",
        },
        "event": {"action": "assigned", "note": None},
    }
    rendered = templates.render(
        template="issue_assigned",
        language=language,
        payload=payload,
        links=templates.Links(issue="https://example.org/issues/K7M3QX9PAB"),
        timezone="Asia/Bangkok",
        auto_close_after=dt.timedelta(days=7),
    )
    expected = {"en": "Assigned to you", "th": "มอบหมายให้คุณ"}[language]
    assert expected in rendered.subject
    assert "Hole by the bus stop" in rendered.subject
    assert "K7M3QX9PAB" in rendered.text


async def test_an_agent_takes_an_issue_and_releases_it_but_gives_it_to_no_one_else(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, office: Office
) -> None:
    issue_id = await claimed_issue(client, db, database, settings, office)

    taken = await assign(client, settings, office.agent, issue_id, office.agent.id)
    assert taken.status_code == 200, taken.text
    # Nobody is told of what they did themselves.
    last = stored_events(database, issue_id)[-1]
    assert [n for n in outbox(database, issue_id) if n.event_id == last.id] == []

    # Another agent can neither take it over nor release it for them.
    for assignee in (office.colleague.id, None):
        refused = await assign(client, settings, office.colleague, issue_id, assignee)
        assert refused.status_code == 403, refused.text
        assert "manager" in refused.json()["detail"]
    assert stored_issue(database, issue_id).assignee_id == office.agent.id

    released = await assign(client, settings, office.agent, issue_id, None)
    assert released.status_code == 200, released.text
    assert released.json()["assignee_id"] is None
    assert [e.action for e in stored_events(database, issue_id)][-2:] == [
        EventAction.assigned,
        EventAction.assigned,
    ]


async def test_assigning_to_whoever_has_it_changes_nothing(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, office: Office
) -> None:
    issue_id = await claimed_issue(client, db, database, settings, office)
    await assign(client, settings, office.manager, issue_id, office.agent.id)
    events = len(stored_events(database, issue_id))
    version = stored_issue(database, issue_id).version

    again = await assign(client, settings, office.manager, issue_id, office.agent.id)

    assert again.status_code == 200
    assert (len(stored_events(database, issue_id)), stored_issue(database, issue_id).version) == (
        events,
        version,
    )


@pytest.mark.parametrize(
    ("who", "reason"),
    [
        ("rival", "assign.other_agency"),
        ("reporter", "assign.not_staff"),
        ("admin", "assign.not_staff"),
        ("nobody", "assign.unknown_user"),
        ("inactive", "assign.unknown_user"),
    ],
)
async def test_only_active_staff_of_the_handling_agency_can_be_assigned(
    client: httpx.AsyncClient,
    db: Session,
    database: Database,
    settings: Settings,
    office: Office,
    who: str,
    reason: str,
) -> None:
    issue_id = await claimed_issue(client, db, database, settings, office)
    inactive = make_user(db, Role.agent, agency=office.west)
    inactive.is_active = False
    db.commit()
    assignee = {
        "rival": office.rival.id,
        "reporter": office.reporter.id,
        "admin": office.admin.id,
        "nobody": 10**9,
        "inactive": inactive.id,
    }[who]
    events = len(stored_events(database, issue_id))

    response = await assign(client, settings, office.manager, issue_id, assignee)

    assert response.status_code == 422, response.text
    assert problem_type(response) == "validation-failed"
    assert response.json()["errors"][0]["location"] == "body.assignee"
    assert response.json()["detail"] == i18n.t(reason, Language.en)
    assert len(stored_events(database, issue_id)) == events
    assert stored_issue(database, issue_id).assignee_id is None


async def test_an_unclaimed_issue_is_claimed_first(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, office: Office
) -> None:
    issue_id = new_issue(db, database, office)
    response = await assign(client, settings, office.manager, issue_id, office.agent.id)
    assert response.status_code == 409, response.text
    assert problem_type(response) == "claim-first"
    assert response.json()["allowed_actions"] == ["claim"]
    # Admins claim nothing: they hand the issue to an agency first.
    response = await assign(client, settings, office.admin, issue_id, office.agent.id)
    assert response.status_code == 409, response.text
    assert problem_type(response) == "invalid-transition"
    assert response.json()["allowed_actions"] == ["transfer"]


async def test_outsiders_may_not_assign(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, office: Office
) -> None:
    issue_id = await claimed_issue(client, db, database, settings, office)
    for actor in (office.reporter, office.rival, office.east_manager):
        response = await assign(client, settings, actor, issue_id, office.agent.id)
        assert response.status_code == 403, response.text
        assert problem_type(response) == "forbidden"
    assert (
        await client.put(f"/api/v1/issues/{issue_id}/assignee", json={"assignee": 1})
    ).status_code == 401
    # Admins act for any agency.
    admin = await assign(client, settings, office.admin, issue_id, office.agent.id)
    assert admin.status_code == 200, admin.text


async def test_a_stale_version_or_a_closed_issue_is_refused(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, office: Office
) -> None:
    issue_id = await claimed_issue(client, db, database, settings, office)
    stale = await assign(
        client, settings, office.manager, issue_id, office.agent.id, headers={"If-Match": '"1"'}
    )
    assert stale.status_code == 412, stale.text
    assert stale.json()["current_version"] == stored_issue(database, issue_id).version

    resolved = await act(client, settings, office.agent, issue_id, "resolve", resolution="fixed")
    assert resolved.status_code == 200, resolved.text
    assert (await act(client, settings, office.agent, issue_id, "close")).status_code == 200
    closed = await assign(client, settings, office.manager, issue_id, office.agent.id)
    assert closed.status_code == 409, closed.text
    assert problem_type(closed) == "conflict"


async def test_a_transfer_leaves_the_issue_unassigned(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, office: Office
) -> None:
    issue_id = await claimed_issue(client, db, database, settings, office)
    await assign(client, settings, office.manager, issue_id, office.agent.id)
    moved = await act(
        client,
        settings,
        office.manager,
        issue_id,
        "transfer",
        to_agency=office.east.id,
        note="East side of the road",
    )
    assert moved.status_code == 200, moved.text
    assert stored_issue(database, issue_id).assignee_id is None


async def test_errors_are_worded_in_thai_for_thai_readers(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, office: Office
) -> None:
    issue_id = await claimed_issue(client, db, database, settings, office)
    response = await assign(
        client,
        settings,
        office.manager,
        issue_id,
        office.rival.id,
        headers={"Accept-Language": "th"},
    )
    assert response.status_code == 422
    assert response.json()["detail"].startswith("ผู้ใช้นี้สังกัดหน่วยงานอื่น")


async def test_staff_who_turned_agency_alerts_off_are_not_told_of_assignments(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, office: Office
) -> None:
    issue_id = await claimed_issue(client, db, database, settings, office)
    db.add(
        NotificationPreference(
            user_id=office.colleague.id, email=True, webpush=True, webhook=True, agency_alerts=False
        )
    )
    db.commit()

    response = await assign(client, settings, office.manager, issue_id, office.colleague.id)

    assert response.status_code == 200, response.text
    event = stored_events(database, issue_id)[-1]
    assert [n for n in outbox(database, issue_id) if n.event_id == event.id] == []
