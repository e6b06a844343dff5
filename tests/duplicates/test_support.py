"""Me too: a citizen with the same problem supports the existing issue instead of reporting it
again. They are counted once, follow it, and the issue shows it; they can take it back."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import EventAction, Follow, Role, Support
from tests.factories import bearer, make_user
from tests.lifecycle.helpers import (
    City,
    drive,
    problem_type,
    report,
    stored_count,
    stored_events,
)
from tests.notifications.helpers import outbox

DEVICE = {"X-Device-Id": "a-phone-with-a-long-secret-id-0001"}
ENGLISH = {"Accept-Language": "en"}


def support_url(issue_id: str) -> str:
    return f"/api/v1/issues/{issue_id}/support"


async def test_a_device_user_supports_an_issue_and_is_counted_and_following(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    issue_id = report(db, database, city)
    messages_before = len(outbox(database))

    response = await client.post(support_url(issue_id), headers=DEVICE)

    assert response.status_code == 200, response.text
    assert response.json() == {"issue": issue_id, "supported": True, "supporter_count": 1}
    assert stored_count(database, Follow) == 2  # the reporter's and the supporter's
    event = stored_events(database, issue_id)[-1]
    assert (event.action, event.actor_role, event.is_public) == (
        EventAction.supported,
        "citizen",
        True,
    )
    # A "me too" is not news for the followers: the count on the issue says it.
    assert len(outbox(database)) == messages_before
    seen = (await client.get(f"/api/v1/issues/{issue_id}", headers=DEVICE)).json()
    assert (seen["supporter_count"], seen["supported"]) == (1, True)
    anonymous = (await client.get(f"/api/v1/issues/{issue_id}")).json()
    assert (anonymous["supporter_count"], anonymous["supported"]) == (1, None)
    other = (
        await client.get(f"/api/v1/issues/{issue_id}", headers=bearer(settings, city.stranger))
    ).json()
    assert other["supported"] is False


async def test_a_supporter_hears_of_the_next_step_like_any_follower(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    issue_id = report(db, database, city)
    await client.post(support_url(issue_id), headers=bearer(settings, city.stranger))
    before = len(outbox(database))
    await drive(client, settings, city.agent, issue_id, "acknowledged")
    told = {(r.recipient_user_id, r.reason) for r in outbox(database)[before:]}
    assert (city.stranger.id, "follower") in told


async def test_withdrawing_uncounts_but_keeps_following(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    issue_id = report(db, database, city)
    await client.post(support_url(issue_id), headers=DEVICE)
    for _ in range(2):  # taking back what is not there is the same outcome
        response = await client.delete(support_url(issue_id), headers=DEVICE)
        assert response.status_code == 200, response.text
        assert response.json() == {"issue": issue_id, "supported": False, "supporter_count": 0}
    assert stored_count(database, Support) == 0
    assert stored_count(database, Follow) == 2
    # And may support again.
    assert (await client.post(support_url(issue_id), headers=DEVICE)).status_code == 200


@pytest.mark.parametrize(("language", "words"), [("en", "already support"), ("th", "สนับสนุนเรื่อง")])
async def test_supporting_twice_is_a_conflict_that_says_so_in_the_readers_language(
    client: httpx.AsyncClient,
    database: Database,
    db: Session,
    city: City,
    language: str,
    words: str,
) -> None:
    issue_id = report(db, database, city)
    await client.post(support_url(issue_id), headers=DEVICE)

    response = await client.post(
        support_url(issue_id), headers={**DEVICE, "Accept-Language": language}
    )

    assert response.status_code == 409
    assert problem_type(response) == "already-supported"
    assert words in response.json()["detail"]
    assert response.headers["content-language"] == language
    assert stored_count(database, Support) == 1
    assert [e.action for e in stored_events(database, issue_id)].count(EventAction.supported) == 1


async def test_the_reporter_cannot_support_their_own_issue(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    issue_id = report(db, database, city)
    response = await client.post(
        support_url(issue_id), headers={**bearer(settings, city.reporter), **ENGLISH}
    )
    assert response.status_code == 409
    assert problem_type(response) == "own-issue"
    assert "share it" in response.json()["detail"]
    assert stored_count(database, Support) == 0


@pytest.mark.parametrize("status", ["resolved", "closed"])
async def test_a_resolved_or_closed_issue_cannot_be_supported(
    client: httpx.AsyncClient,
    settings: Settings,
    database: Database,
    db: Session,
    city: City,
    status: str,
) -> None:
    issue_id = report(db, database, city)
    await drive(client, settings, city.agent, issue_id, status)
    response = await client.post(support_url(issue_id), headers={**DEVICE, **ENGLISH})
    assert response.status_code == 409
    assert problem_type(response) == "issue-not-open"
    assert "report it again" in response.json()["detail"]
    assert stored_count(database, Support) == 0


async def test_staff_act_on_issues_rather_than_support_them(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    issue_id = report(db, database, city)
    for user in (city.agent, city.admin, make_user(db, Role.manager, agency=city.east)):
        response = await client.post(support_url(issue_id), headers=bearer(settings, user))
        assert response.status_code == 403
    assert stored_count(database, Support) == 0


async def test_support_needs_some_identity_and_an_existing_issue(
    client: httpx.AsyncClient, database: Database, db: Session, city: City
) -> None:
    issue_id = report(db, database, city)
    assert (await client.post(support_url(issue_id))).status_code == 401
    assert (await client.delete(support_url(issue_id))).status_code == 401
    assert (await client.post(support_url("NOSUCHISSUE"), headers=DEVICE)).status_code == 404
