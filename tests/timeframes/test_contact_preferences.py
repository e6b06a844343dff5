"""Reporters state a contact language and accessibility needs (on their profile, or when they
report); handling staff see them with the reporter; messages follow the language, and
easy_read shortens them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import Language, User
from tests.factories import IN_WEST, bearer
from tests.lifecycle.helpers import City, act, problem_type, report
from tests.notifications.helpers import delivered_mail, outbox

ME = "/api/v1/users/me"
DEVICE = {"X-Device-Id": "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a"}


def stored_user(database: Database, user_id: int) -> User:
    with database.session(write=False) as session:
        user = session.get(User, user_id)
        assert user is not None
        return user


async def test_a_citizen_states_language_and_needs_on_their_profile(
    client: httpx.AsyncClient, settings: Settings, database: Database, city: City
) -> None:
    headers = bearer(settings, city.reporter)
    response = await client.patch(
        ME,
        headers=headers,
        json={"language": "en", "contact_needs": ["phone_call", "easy_read", "phone_call"]},
    )
    assert response.status_code == 200, response.text
    # Once each, in a fixed order, however it was sent.
    assert (response.json()["language"], response.json()["contact_needs"]) == (
        "en",
        ["easy_read", "phone_call"],
    )
    assert (await client.get(ME, headers=headers)).json()["contact_needs"] == [
        "easy_read",
        "phone_call",
    ]
    # Leaving a field out keeps it; an empty list clears the needs.
    response = await client.patch(ME, headers=headers, json={"contact_needs": []})
    assert (response.json()["language"], response.json()["contact_needs"]) == ("en", [])


@pytest.mark.parametrize(
    "body",
    [
        {"contact_needs": ["telepathy"]},
        {"contact_needs": None},
        {"language": "fr"},
        {"language": None},
        {"contact_needs": "easy_read"},
        {"role": "admin"},
    ],
)
async def test_bad_preferences_are_refused_and_nothing_changes(
    client: httpx.AsyncClient,
    settings: Settings,
    database: Database,
    city: City,
    body: dict[str, Any],
) -> None:
    response = await client.patch(ME, headers=bearer(settings, city.reporter), json=body)
    assert response.status_code == 422, response.text
    assert problem_type(response) == "validation-failed"
    user = stored_user(database, city.reporter.id)
    assert (user.language, user.contact_needs, user.role) == ("en", [], "citizen")


async def test_only_a_logged_in_user_has_a_profile_to_change(
    client: httpx.AsyncClient,
) -> None:
    response = await client.patch(ME, json={"language": "en"})
    assert response.status_code == 401, response.text


async def test_needs_stated_when_reporting_reach_the_handling_staff_but_not_the_public(
    client: httpx.AsyncClient, settings: Settings, database: Database, city: City
) -> None:
    response = await client.post(
        "/api/v1/issues",
        headers=DEVICE,
        json={
            "category": "pothole",
            "title": "Hole at the bus stop",
            "latitude": IN_WEST[1],
            "longitude": IN_WEST[0],
            "language": "en",
            "contact_needs": ["screen_reader", "phone_call"],
        },
    )
    assert response.status_code == 201, response.text
    issue_id = response.json()["id"]
    assert (await act(client, settings, city.agent, issue_id, "claim")).status_code == 200
    seen = await client.get(f"/api/v1/issues/{issue_id}", headers=bearer(settings, city.agent))
    reporter = seen.json()["reporter"]
    assert (reporter["language"], reporter["contact_needs"]) == (
        "en",
        ["screen_reader", "phone_call"],
    )
    public = await client.get(f"/api/v1/issues/{issue_id}")
    assert public.json()["reporter"] is None
    # Saved on the device's profile: what is queued for it from now on is in English.
    saved = stored_user(database, reporter["id"])
    assert (saved.language, saved.contact_needs) == ("en", ["screen_reader", "phone_call"])


async def test_an_easy_read_reporter_gets_the_short_message_in_their_language(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    await client.patch(
        ME,
        headers=bearer(settings, city.reporter),
        json={"language": "en", "contact_needs": ["easy_read"]},
    )
    follower = city.stranger  # follows the same issue, reads Thai, with no stated needs
    follower.language = Language.th
    db.commit()
    issue_id = report(db, database, city)
    await client.post(f"/api/v1/issues/{issue_id}/follow", headers=bearer(settings, follower))
    response = await act(
        client, settings, city.agent, issue_id, "claim", note="Crew booked for Tuesday"
    )
    assert response.status_code == 200, response.text
    claimed = [r for r in outbox(database, issue_id) if r.payload["event"]["action"] == "claimed"]
    templates = {r.recipient_user_id: r.template for r in claimed}
    assert templates[city.reporter.id] == "issue_update.easy"
    assert templates[follower.id] == "issue_update"

    mail = delivered_mail(database, settings)
    easy = next(
        m for m in mail if m["To"] == city.reporter.email and "taken on" in m.get_content()
    ).get_content()
    full = next(
        m for m in mail if m["To"] == follower.email and "รับเรื่องนี้แล้ว" in m.get_content()
    ).get_content()
    assert f"{city.west.name_en} has taken on this issue." in easy
    assert "Status now: acknowledged by the agency" in easy
    assert "Next step: resolution, expected by" in easy
    assert f"/issues/{issue_id}" in easy
    # Without the detail lines: no note, no agency line, no issue line.
    assert "Crew booked" not in easy
    assert "Handled by" not in easy
    assert "Crew booked" in full
    assert len(easy.splitlines()) < len(full.splitlines())


async def test_a_screen_reader_users_mail_is_plain_text_only(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    await client.patch(
        ME, headers=bearer(settings, city.reporter), json={"contact_needs": ["screen_reader"]}
    )
    report(db, database, city)
    [receipt] = [m for m in delivered_mail(database, settings) if m["To"] == city.reporter.email]
    assert receipt.get_content_type() == "text/plain"
    assert not receipt.is_multipart()
