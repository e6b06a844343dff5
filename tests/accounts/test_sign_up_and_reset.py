"""Sign-up and password reset tell no one which e-mail addresses have accounts: the answer is
the same either way, and only the mailbox learns more (real SMTP on loopback)."""

from __future__ import annotations

from email.message import EmailMessage
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import Registration, User
from tests.factories import PASSWORD, bearer, make_agency, make_category, make_user
from tests.notifications.helpers import delivered_mail, link

NEW_PASSWORD = "lantern orchid tramline seventeen"


def _sign_up(email: str, **extra: str) -> dict[str, str]:
    return {
        "email": email,
        "password": "quiet river under paper moons",
        "display_name": "Malee",
        "language": "en",
        **extra,
    }


def _mail_to(messages: list[EmailMessage], address: str) -> EmailMessage:
    [message] = [m for m in messages if m["To"] == address]
    return message


def _token(path: str) -> str:
    return parse_qs(urlsplit(path).query)["token"][0]


async def test_sign_up_answers_alike_for_a_taken_and_a_free_address(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings
) -> None:
    owner = make_user(db, email="taken@example.org")
    taken = await client.post("/api/v1/auth/register", json=_sign_up("TAKEN@example.org"))
    free = await client.post("/api/v1/auth/register", json=_sign_up("free@example.org"))

    assert taken.status_code == free.status_code == 202
    assert taken.json() == free.json()
    assert taken.json()["detail"].startswith("Check your e-mail")
    assert db.query(User).count() == 1  # nothing is made before the mailbox answers

    messages = delivered_mail(database, settings)
    told = _mail_to(messages, "taken@example.org")
    assert told["Subject"] == "Someone tried to sign up with your e-mail address"
    assert "Nothing has changed in your account" in told.get_content()
    db.refresh(owner)
    assert owner.display_name != "Malee"

    confirm = _mail_to(messages, "free@example.org")
    assert confirm["Subject"] == "Confirm your civicloop sign-up"
    path = link(confirm, "Confirm:")
    # Opening the link (a mail scanner does) only says what it does.
    described = await client.get(path)
    assert described.status_code == 200, described.text
    # The shape of every mailed link's confirmation (unsubscribe and feedback links too).
    assert described.json() == {
        "action": "confirm_sign_up",
        "description": described.json()["description"],
        "method": "POST",
        "href": "http://127.0.0.1:8000/api/v1/auth/register/confirm",
        "content_type": "application/json",
        "body": {"token": _token(path)},
    }
    assert described.json()["description"].startswith("This link finishes your sign-up")
    assert db.query(User).count() == 1

    made = await client.post("/api/v1/auth/register/confirm", json={"token": _token(path)})
    assert made.status_code == 201, made.text
    assert made.headers["cache-control"] == "no-store"
    me = await client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {made.json()['access_token']}"}
    )
    assert me.json()["email"] == "free@example.org"
    again = await client.post("/api/v1/auth/register/confirm", json={"token": _token(path)})
    assert again.status_code == 400
    assert again.json()["type"].endswith("/invalid-link")


async def test_a_devices_reports_join_the_confirmed_account(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings
) -> None:
    make_agency(db, categories=[make_category(db, "pothole")])
    device = {"X-Device-Id": "a-phone-that-reported-01"}
    report = {"category": "pothole", "title": "Hole", "latitude": 13.72, "longitude": 100.52}
    reported = await client.post("/api/v1/issues", headers=device, json=report)
    assert reported.status_code == 201, reported.text
    signed_up = await client.post(
        "/api/v1/auth/register",
        json=_sign_up("malee@example.org", device_id=device["X-Device-Id"]),
    )
    assert signed_up.status_code == 202, signed_up.text

    path = link(_mail_to(delivered_mail(database, settings), "malee@example.org"), "Confirm:")
    made = await client.post("/api/v1/auth/register/confirm", json={"token": _token(path)})

    mine = await client.get(
        "/api/v1/users/me/issues",
        headers={"Authorization": f"Bearer {made.json()['access_token']}"},
    )
    assert [i["id"] for i in mine.json()["items"]] == [reported.json()["id"]]


async def test_a_forged_or_foreign_sign_up_token_is_refused(
    client: httpx.AsyncClient, db: Session
) -> None:
    for token in ("not-a-token", "MQ.aGVsbG8.c2lnbmF0dXJl"):
        refused = await client.post("/api/v1/auth/register/confirm", json={"token": token})
        assert refused.status_code == 400
        assert refused.json()["type"].endswith("/invalid-link")
    assert db.query(Registration).count() == 0


async def test_password_reset_answers_alike_and_mails_only_the_owner(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings
) -> None:
    owner = make_user(db, email="owner@example.org")
    old_login = bearer(settings, owner)
    known = await client.post("/api/v1/auth/password-reset", json={"email": "owner@example.org"})
    unknown = await client.post("/api/v1/auth/password-reset", json={"email": "nobody@example.org"})

    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    messages = delivered_mail(database, settings)
    assert [m["To"] for m in messages] == ["owner@example.org"]

    path = link(messages[0], "New password:")
    described = await client.get(path, headers={"Accept-Language": "th"})
    assert described.status_code == 200, described.text
    assert described.headers["content-language"] == "th"
    assert {k: v for k, v in described.json().items() if k != "description"} == {
        "action": "reset_password",
        "method": "POST",
        "href": "http://127.0.0.1:8000/api/v1/auth/password-reset/confirm",
        "content_type": "application/json",
        "body": {"token": _token(path)},
    }
    weak = await client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": _token(path), "password": "owner@example.org"},
    )
    assert weak.status_code == 422
    assert weak.json()["errors"][0]["code"] == "weak_password"

    reset = await client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": _token(path), "password": NEW_PASSWORD},
    )

    assert reset.status_code == 204, reset.text
    assert (await client.get("/api/v1/users/me", headers=old_login)).status_code == 401
    for password, status in ((PASSWORD, 401), (NEW_PASSWORD, 200)):
        login = await client.post(
            "/api/v1/auth/login", json={"email": "owner@example.org", "password": password}
        )
        assert login.status_code == status, login.text
    used = await client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": _token(path), "password": "another fine unguessable phrase"},
    )
    assert used.status_code == 400
    assert used.json()["type"].endswith("/invalid-link")
