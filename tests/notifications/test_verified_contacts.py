"""Verified contacts: an e-mail address receives nothing but its verification message until its
owner opens the mailed link, whether it follows an issue without an account or belongs to an
account an admin made. Real SMTP on loopback."""

from __future__ import annotations

import re
from email.message import EmailMessage

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import Follow, Issue, Language, User
from tests.factories import bearer
from tests.lifecycle.helpers import City, act, report
from tests.notifications.helpers import drain
from tests.notifications.receivers import SmtpServer, free_port

RESIDENT = "resident@example.net"


def mailed(database: Database, settings: Settings, to: str) -> list[EmailMessage]:
    """Deliver everything due through a real SMTP server; what reached `to`."""
    smtp = SmtpServer(free_port()).start()
    try:
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
    return [m for m in smtp.messages if m["To"] == to]


def token_in(message: EmailMessage, path: str) -> str:
    found = re.search(re.escape(path) + r"\?token=([^\s]+)", message.get_content())
    assert found, message.get_content()
    return found.group(1)


async def test_following_by_email_mails_only_the_confirmation_until_it_comes_back(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    issue_id = report(db, database, city)
    asked = await client.post(
        f"/api/v1/issues/{issue_id}/follow-by-email",
        headers={"Accept-Language": "th"},
        json={"email": RESIDENT, "language": "th"},
    )
    assert asked.status_code == 202, asked.text
    assert (await act(client, settings, city.agent, issue_id, "claim")).status_code == 200

    [confirmation] = mailed(database, settings, RESIDENT)  # not the claim: only the link
    assert confirmation["Subject"] == f"ยืนยันการติดตามเรื่อง {issue_id} บน civicloop"
    token = token_in(confirmation, "/api/v1/follow-by-email/confirm")
    described = await client.get("/api/v1/follow-by-email/confirm", params={"token": token})
    assert described.status_code == 200, described.text
    assert described.json()["action"] == "follow_by_email"
    assert mailed(database, settings, RESIDENT) == []  # opening the link did nothing

    confirmed = await client.post("/api/v1/follow-by-email/confirm", json={"token": token})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json() == {"issue": issue_id, "following": True}
    again = await client.post("/api/v1/follow-by-email/confirm", json={"token": token})
    assert again.status_code == 200  # a second click changes nothing
    assert (await act(client, settings, city.agent, issue_id, "start")).status_code == 200
    [update] = mailed(database, settings, RESIDENT)
    assert f"{city.west.name_th} เริ่มดำเนินการแล้ว" in update.get_content()
    assert update["List-Unsubscribe"].startswith("<http://127.0.0.1:8000/api/v1/unsubscribe")
    with database.session(write=False) as session:
        follower = session.scalars(select(User).where(User.email == RESIDENT)).one()
        assert follower.email_verified_at is not None
        assert follower.password_hash is None  # an address, not an account one can log in to


async def test_an_address_typed_by_someone_else_hears_nothing_but_the_one_link(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    issue_id = report(db, database, city)
    for _ in range(2):
        asked = await client.post(
            f"/api/v1/issues/{issue_id}/follow-by-email", json={"email": RESIDENT.upper()}
        )
        assert asked.status_code == 202
    for step in ("claim", "start"):
        assert (await act(client, settings, city.agent, issue_id, step)).status_code == 200
    received = mailed(database, settings, RESIDENT)
    assert len(received) == 2
    assert all("/follow-by-email/confirm?token=" in m.get_content() for m in received)
    forged = await client.post("/api/v1/follow-by-email/confirm", json={"token": "x" * 40})
    assert forged.status_code == 400
    assert forged.headers["content-type"] == "application/problem+json"


async def test_following_by_email_a_report_the_public_cannot_see_is_a_404(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    private = await client.post(
        "/api/v1/issues",
        headers=bearer(settings, city.reporter),
        json={
            "category": city.category.code,
            "title": "My own street light",
            "longitude": 100.52,
            "latitude": 13.72,
            "private": True,
        },
    )
    assert private.status_code == 201, private.text
    refused = await client.post(
        f"/api/v1/issues/{private.json()['id']}/follow-by-email", json={"email": RESIDENT}
    )
    assert refused.status_code == 404
    bad = await client.post(
        f"/api/v1/issues/{report(db, database, city)}/follow-by-email",
        headers={"Accept-Language": "th"},
        json={"email": "not an address"},
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"


async def test_a_staff_account_an_admin_made_is_mailed_only_its_verification_until_confirmed(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    made = await client.post(
        "/api/v1/users",
        headers=bearer(settings, city.admin),
        json={
            "email": "new.agent@west.example",
            "password": "a long and unusual passphrase 7",
            "display_name": "New agent",
            "role": "agent",
            "agency_id": city.west.id,
        },
    )
    assert made.status_code == 201, made.text
    reset = await client.post(
        "/api/v1/auth/password-reset", json={"email": "new.agent@west.example"}
    )
    assert reset.status_code == 202
    report(db, database, city)  # west's staff are alerted of a new report in their area
    received = mailed(database, settings, "new.agent@west.example")
    # The verification, and again the verification instead of the reset: no alert, no reset.
    assert [m["Subject"] for m in received] == ["ยืนยันอีเมลของคุณสำหรับ civicloop"] * 2
    token = token_in(received[0], "/api/v1/auth/verify-email/confirm")
    verified = await client.post("/api/v1/auth/verify-email/confirm", json={"token": token})
    assert verified.status_code == 200, verified.text

    report(db, database, city)
    [alert] = mailed(database, settings, "new.agent@west.example")
    assert "verify-email" not in alert.get_content()
    logged_in = await client.post(
        "/api/v1/auth/login",
        json={"email": "new.agent@west.example", "password": "a long and unusual passphrase 7"},
    )
    assert logged_in.status_code == 200, logged_in.text
    resent = await client.post(
        "/api/v1/auth/verify-email",
        headers={"Authorization": f"Bearer {logged_in.json()['access_token']}"},
    )
    assert resent.status_code == 202
    assert mailed(database, settings, "new.agent@west.example") == []  # verified: nothing sent


async def test_a_follower_by_email_who_signs_up_keeps_the_address_and_its_follows(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    issue_id = report(db, database, city)
    await client.post(f"/api/v1/issues/{issue_id}/follow-by-email", json={"email": RESIDENT})
    [link] = mailed(database, settings, RESIDENT)
    token = token_in(link, "/api/v1/follow-by-email/confirm")
    assert (
        await client.post("/api/v1/follow-by-email/confirm", json={"token": token})
    ).status_code == 200
    signed_up = await client.post(
        "/api/v1/auth/register",
        json={
            "email": RESIDENT,
            "password": "a long and unusual passphrase 7",
            "display_name": "Resident",
            "language": "en",
        },
    )
    assert signed_up.status_code == 202, signed_up.text
    [confirm] = mailed(database, settings, RESIDENT)
    made = await client.post(
        "/api/v1/auth/register/confirm",
        json={"token": token_in(confirm, "/api/v1/auth/register/confirm")},
    )
    assert made.status_code == 201, made.text
    me = await client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {made.json()['access_token']}"}
    )
    assert me.json()["email"] == RESIDENT
    with database.session(write=False) as session:
        account = session.scalars(select(User).where(User.email == RESIDENT)).one()
        assert (account.id, account.language) == (me.json()["id"], Language.en)
        assert account.password_hash is not None
        follows = session.scalars(
            select(Follow.user_id).join(Issue).where(Issue.public_id == issue_id)
        )
        assert account.id in set(follows)
