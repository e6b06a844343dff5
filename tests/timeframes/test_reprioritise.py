"""Handling staff change an issue's priority or flags: the deadlines move (counted from the
report, not from the change), a priority_changed event is written and the reporter is told the
new dates."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import Language
from tests.factories import bearer, if_match
from tests.lifecycle.helpers import (
    City,
    act,
    problem_type,
    report,
    stored_events,
    stored_issue,
)
from tests.notifications.helpers import delivered_mail, outbox

H = dt.timedelta(hours=1)


async def patch(
    client: httpx.AsyncClient, settings: Settings, city: City, issue_id: str, **body: Any
) -> httpx.Response:
    return await client.patch(
        f"/api/v1/issues/{issue_id}",
        headers=await if_match(client, issue_id, bearer(settings, city.agent)),
        json=body,
    )


async def claimed(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> str:
    issue_id = report(db, database, city)
    assert (await act(client, settings, city.agent, issue_id, "claim")).status_code == 200
    return issue_id


async def test_a_higher_priority_moves_the_deadlines_from_the_report_and_tells_the_reporter(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    city.reporter.language = Language.en
    db.commit()
    issue_id = await claimed(client, settings, database, db, city)
    response = await patch(client, settings, city, issue_id, priority="urgent")
    assert response.status_code == 200, response.text
    issue = stored_issue(database, issue_id)
    # pothole: 24 h / 120 h, x 0.25 for urgent, from the report time.
    assert issue.acknowledge_due_at - issue.created_at == 6 * H
    assert issue.resolve_due_at - issue.created_at == 30 * H
    assert response.json()["timeframe"]["expected_datetime"] == response.json()["resolve_due_at"]
    event = stored_events(database, issue_id)[-1]
    assert (event.action, event.is_public) == ("priority_changed", True)
    # Said by the system, so stored as a message worded for each reader.
    assert event.note is None
    assert (event.message_key, event.message_params) == (
        "message.priority_changed",
        {
            "old": {"text": "label.priority.normal", "params": {}},
            "new": {"text": "label.priority.urgent", "params": {}},
            "flags": {"text": "message.no_flags", "params": {}},
        },
    )

    told = [
        r for r in outbox(database, issue_id) if r.payload["event"]["action"] == "priority_changed"
    ]
    assert {r.recipient_user_id for r in told} == {city.reporter.id}  # not the agent who did it
    assert told[0].payload["issue"]["resolve_due_at"] == issue.resolve_due_at.isoformat()
    mail = [
        m
        for m in delivered_mail(database, settings)
        if m["To"] == city.reporter.email and "changed its priority" in m.get_content()
    ]
    assert len(mail) == 1
    body = mail[0].get_content()
    assert f"{city.west.name_en} changed its priority to urgent" in body
    local = issue.resolve_due_at.astimezone(dt.timezone(dt.timedelta(hours=7)))
    assert f"Next step: resolution, expected by {local:%Y-%m-%d %H:%M}" in body
    assert "Priority changed from Normal to Urgent; flags: none." in body


async def test_a_flag_added_by_staff_raises_the_priority_it_requires(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    issue_id = await claimed(client, settings, database, db, city)
    response = await patch(client, settings, city, issue_id, flags=["accessibility"])
    assert response.status_code == 200, response.text
    assert (response.json()["priority"], response.json()["flags"]) == ("high", ["accessibility"])
    issue = stored_issue(database, issue_id)
    assert issue.resolve_due_at - issue.created_at == 60 * H
    # Removing the flag keeps the priority: staff lower it themselves if they mean to.
    response = await patch(client, settings, city, issue_id, flags=[])
    assert (response.json()["priority"], response.json()["flags"]) == ("high", [])
    response = await patch(client, settings, city, issue_id, priority="low")
    assert response.json().get("priority") == "low", response.text
    issue = stored_issue(database, issue_id)
    assert issue.resolve_due_at - issue.created_at == 180 * H
    assert [e.action for e in stored_events(database, issue_id)][-3:] == ["priority_changed"] * 3


async def test_the_priority_cannot_fall_below_what_the_flags_require(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    issue_id = await claimed(client, settings, database, db, city)
    await patch(client, settings, city, issue_id, flags=["safety_hazard"])
    before = stored_issue(database, issue_id)
    response = await patch(client, settings, city, issue_id, priority="normal", title="A new title")
    assert response.status_code == 422, response.text
    assert "urgent" in response.json()["detail"]
    assert response.json()["errors"][0]["location"] == "body.priority"
    after = stored_issue(database, issue_id)
    assert (after.priority, after.title, after.version) == ("urgent", before.title, before.version)


async def test_the_same_priority_again_changes_nothing(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    issue_id = await claimed(client, settings, database, db, city)
    events = len(stored_events(database, issue_id))
    response = await patch(client, settings, city, issue_id, priority="normal", flags=[])
    assert response.status_code == 200, response.text
    assert len(stored_events(database, issue_id)) == events


@pytest.mark.parametrize("body", [{"flags": ["accessibility"]}, {"priority": "high"}])
async def test_reporters_state_flags_only_when_reporting(
    client: httpx.AsyncClient,
    settings: Settings,
    database: Database,
    db: Session,
    city: City,
    body: dict[str, Any],
) -> None:
    issue_id = report(db, database, city)
    response = await client.patch(
        f"/api/v1/issues/{issue_id}", headers=bearer(settings, city.reporter), json=body
    )
    assert response.status_code == 403, response.text
    assert stored_issue(database, issue_id).priority == "normal"


@pytest.mark.parametrize(
    "body", [{"flags": None}, {"flags": ["wheelchair"]}, {"flags": "accessibility"}]
)
async def test_bad_flags_are_refused(
    client: httpx.AsyncClient,
    settings: Settings,
    database: Database,
    db: Session,
    city: City,
    body: dict[str, Any],
) -> None:
    issue_id = await claimed(client, settings, database, db, city)
    response = await patch(client, settings, city, issue_id, **body)
    assert response.status_code == 422, response.text
    assert problem_type(response) == "validation-failed"
