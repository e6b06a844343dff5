"""A person downloads everything stored about them, and erases their account: what is theirs
alone goes, their reports and words stay as the civic record by no one; each act is audited."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import (
    AreaWatch,
    Comment,
    Follow,
    Issue,
    Notification,
    PrivacyAudit,
    User,
)
from tests.conftest import AppFor, http_client
from tests.factories import IN_WEST, PASSWORD, bearer
from tests.lifecycle.helpers import City, act, report, stored_issue
from tests.notifications.helpers import delivered_mail, outbox

DEVICE = {"X-Device-Id": "a-phone-that-reports-with-a-long-secret-id-7"}


def audit(database: Database) -> list[tuple[str, int | None, dict[str, int]]]:
    with database.session(write=False) as session:
        return [
            (row.action.value, row.user_id, row.details)
            for row in session.scalars(select(PrivacyAudit).order_by(PrivacyAudit.id))
        ]


async def test_download_my_data_holds_everything_about_me_and_nothing_of_others(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    mine = report(db, database, city)
    theirs = (
        await client.post(
            "/api/v1/issues",
            headers=bearer(settings, city.stranger),
            json={
                "category": "pothole",
                "title": "Pothole by the school",
                "longitude": IN_WEST[0],
                "latitude": IN_WEST[1],
            },
        )
    ).json()["id"]
    me = bearer(settings, city.reporter)
    said = await client.post(
        f"/api/v1/issues/{theirs}/comments", headers=me, json={"body": "Same here, every day"}
    )
    assert said.status_code == 201, said.text
    assert (await client.post(f"/api/v1/issues/{theirs}/follow", headers=me)).status_code == 200
    watch = await client.post(
        "/api/v1/watches",
        headers=me,
        json={"latitude": IN_WEST[1], "longitude": IN_WEST[0], "radius_m": 300},
    )
    assert watch.status_code == 201
    assert (await act(client, settings, city.agent, mine, "claim")).status_code == 200

    response = await client.get("/api/v1/users/me/data", headers=me)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert "attachment" in response.headers["content-disposition"]
    assert response.headers["cache-control"] == "no-store"
    data = response.json()
    assert data["account"]["email"] == city.reporter.email
    assert [r["id"] for r in data["reports"]] == [mine]
    assert [(c["issue"], c["body"]) for c in data["comments"]] == [(theirs, "Same here, every day")]
    assert data["following"] == [mine, theirs]
    assert [w["radius_m"] for w in data["area_watches"]] == [300]
    sent_to_me = [n for n in outbox(database) if n.recipient_user_id == city.reporter.id]
    assert len(data["messages"]) == len(sent_to_me) >= 1
    assert {m["to"] for m in data["messages"]} == {city.reporter.email}
    # Nothing of anyone else's: the stranger's address and their report's text are absent.
    assert str(city.stranger.email) not in response.text
    assert "Pothole by the school" not in response.text
    assert audit(database)[-1][:2] == ("data_downloaded", city.reporter.id)
    assert (await client.get("/api/v1/users/me/data")).status_code == 401


async def test_erasing_my_account_removes_me_and_keeps_the_civic_record(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    issue_id = report(db, database, city)
    me = bearer(settings, city.reporter)
    said = await client.post(
        f"/api/v1/issues/{issue_id}/comments", headers=me, json={"body": "It is getting worse"}
    )
    assert said.status_code == 201
    watch = await client.post(
        "/api/v1/watches",
        headers=me,
        json={"latitude": IN_WEST[1], "longitude": IN_WEST[0], "radius_m": 300},
    )
    assert watch.status_code == 201
    email = city.reporter.email
    assert email is not None
    # One message delivered (through a real SMTP server), one still waiting to be sent.
    assert email in [m["To"] for m in delivered_mail(database, settings)]
    assert (await act(client, settings, city.agent, issue_id, "claim")).status_code == 200

    # The password confirms it; without it or with a wrong one nothing changes.
    for body in ({}, {"password": "not my password"}):
        refused = await client.post("/api/v1/users/me/erasure", headers=me, json=body)
        assert refused.status_code == 403, refused.text
        assert "password" in refused.json()["detail"]
    erased = await client.post("/api/v1/users/me/erasure", headers=me, json={"password": PASSWORD})
    assert erased.status_code == 200, erased.text
    assert erased.json() == {"erased": True, "reports": 1, "comments": 1}

    # No one can act as them any more: the token, the password, the e-mail lead nowhere.
    assert (await client.get("/api/v1/users/me", headers=me)).status_code == 401
    login = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 401
    with database.session(write=False) as session:
        user = session.get(User, city.reporter.id)
        assert user is not None
        assert (user.email, user.password_hash, user.display_name) == (None, None, "")
        assert user.erased_at is not None
        assert not user.is_active
        assert session.scalars(select(Follow).where(Follow.user_id == user.id)).all() == []
        assert session.scalars(select(AreaWatch).where(AreaWatch.user_id == user.id)).all() == []
        destinations = session.scalars(
            select(Notification.destination).where(Notification.recipient_user_id == user.id)
        ).all()
        assert destinations
        assert set(destinations) == {"erased"}
        assert email not in str(session.scalars(select(Notification.destination)).all())
        # The civic record stays: the report, its comment, its timeline.
        assert session.scalars(select(Issue.reporter_id)).all() == [user.id]
        assert session.scalars(select(Comment.body)).all() == ["It is getting worse"]
    public = await client.get(f"/api/v1/issues/{issue_id}")
    assert public.status_code == 200
    assert stored_issue(database, issue_id).title == "Broken street light"
    # Even the agency sees the words, not who said them.
    timeline = await client.get(
        f"/api/v1/issues/{issue_id}/timeline", headers=bearer(settings, city.agent)
    )
    said_by = [e["comment"] for e in timeline.json() if e["comment"]]
    assert [(c["body"], c["author"]["name"]) for c in said_by] == [("It is getting worse", "")]
    # The agency still works on it; the reporter no longer hears of it.
    before = len(outbox(database))
    assert (await act(client, settings, city.agent, issue_id, "start")).status_code == 200
    assert [n for n in outbox(database)[before:] if n.recipient_user_id == city.reporter.id] == []
    action, who, details = audit(database)[-1]
    assert (action, who) == ("account_erased", city.reporter.id)
    assert details["follows"] == 1
    assert details["area_watches"] == 1
    assert details["message_addresses"] == 1
    assert details["messages_unsent"] == 1
    # The address is free again: a new sign-up with it is a new, empty account.
    again = await client.post(
        "/api/v1/auth/register",
        json={"email": email, "password": "a brand new long passphrase", "display_name": "New"},
    )
    assert again.status_code == 202, again.text


async def test_a_device_account_erases_itself_and_the_device_starts_afresh(
    client: httpx.AsyncClient, city: City
) -> None:
    reported = await client.post(
        "/api/v1/issues",
        headers=DEVICE,
        json={
            "category": "pothole",
            "title": "Hole in the lane",
            "longitude": IN_WEST[0],
            "latitude": IN_WEST[1],
        },
    )
    assert reported.status_code == 201, reported.text
    assert len((await client.get("/api/v1/users/me/issues", headers=DEVICE)).json()["items"]) == 1
    erased = await client.post("/api/v1/users/me/erasure", headers=DEVICE, json={})
    assert erased.status_code == 200, erased.text
    # The same device id names no one now: a new report makes a new, empty account.
    again = await client.post(
        "/api/v1/issues",
        headers=DEVICE,
        json={
            "category": "pothole",
            "title": "Another",
            "longitude": IN_WEST[0],
            "latitude": IN_WEST[1],
        },
    )
    assert again.status_code == 201
    mine = (await client.get("/api/v1/users/me/issues", headers=DEVICE)).json()["items"]
    assert [i["title"] for i in mine] == ["Another"]


async def test_staff_accounts_are_not_erased_by_their_holders(
    client: httpx.AsyncClient, settings: Settings, city: City
) -> None:
    for user in (city.agent, city.admin):
        refused = await client.post(
            "/api/v1/users/me/erasure",
            headers={**bearer(settings, user), "Accept-Language": "th"},
            json={"password": PASSWORD},
        )
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
        assert "ผู้ดูแลระบบ" in refused.json()["detail"]
    bad = await client.post(
        "/api/v1/users/me/erasure", headers=bearer(settings, city.reporter), json={"pw": 1}
    )
    assert bad.status_code == 422


async def test_downloads_are_rate_limited(settings: Settings, app_for: AppFor, city: City) -> None:
    limited = settings.model_copy(
        update={"rate_limits_enabled": True, "rate_limit_my_data": "2/hour"}
    )
    async with http_client(app_for(limited)) as client:
        me = bearer(limited, city.reporter)
        for _ in range(2):
            assert (await client.get("/api/v1/users/me/data", headers=me)).status_code == 200
        refused = await client.get("/api/v1/users/me/data", headers=me)
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        assert "Retry-After" in refused.headers
