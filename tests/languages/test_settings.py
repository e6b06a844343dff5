"""A person's language setting: read it, change it, and answers follow it unless the request
names a language itself."""

from __future__ import annotations

import httpx
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import Language, User
from tests.factories import bearer, make_user

DEVICE = {"X-Device-Id": "a3f1c2d4-5b6e-4f70-8a9b-0c1d2e3f4a5b"}


async def test_a_user_reads_and_changes_their_language(
    client: httpx.AsyncClient, settings: Settings, db: Session
) -> None:
    user = make_user(db, language=Language.en)
    headers = bearer(settings, user)
    assert (await client.get("/api/v1/users/me", headers=headers)).json()["language"] == "en"

    changed = await client.patch("/api/v1/users/me", json={"language": "th"}, headers=headers)

    assert changed.status_code == 200, changed.text
    assert changed.json()["language"] == "th"
    assert (await client.get("/api/v1/users/me", headers=headers)).json()["language"] == "th"
    db.expire_all()
    assert db.get_one(User, user.id).language == Language.th


async def test_the_saved_setting_words_answers_without_a_header_and_the_header_beats_it(
    client: httpx.AsyncClient, settings: Settings, db: Session
) -> None:
    headers = bearer(settings, make_user(db, language=Language.en))
    await client.patch("/api/v1/users/me", json={"language": "th"}, headers=headers)

    saved = await client.get("/api/v1/issues/NOSUCH", headers=headers)
    asked = await client.get("/api/v1/issues/NOSUCH", headers={**headers, "Accept-Language": "en"})

    assert saved.headers["content-language"] == "th"
    assert saved.json()["detail"] == "ไม่พบเรื่องรหัส 'NOSUCH'"
    assert asked.headers["content-language"] == "en"
    assert asked.json()["detail"] == "No issue with id 'NOSUCH'."


async def test_the_answer_to_a_change_already_speaks_the_new_language(
    client: httpx.AsyncClient, settings: Settings, db: Session
) -> None:
    headers = bearer(settings, make_user(db, language=Language.th))

    changed = await client.patch("/api/v1/users/me", json={"language": "en"}, headers=headers)
    refused = await client.patch("/api/v1/users/me", json={"language": "fr"}, headers=headers)

    assert changed.status_code == 200
    assert refused.status_code == 422
    assert refused.headers["content-language"] == "en"
    assert refused.json()["errors"][0]["code"] == "enum"


async def test_a_device_without_an_account_has_a_language_setting_too(
    client: httpx.AsyncClient,
) -> None:
    changed = await client.patch("/api/v1/users/me", json={"language": "en"}, headers=DEVICE)
    assert changed.status_code == 200, changed.text
    assert changed.json()["language"] == "en"

    read = await client.get("/api/v1/users/me", headers=DEVICE)
    assert read.json()["language"] == "en"
    thai = await client.patch("/api/v1/users/me", json={"language": "th"}, headers=DEVICE)
    assert thai.json()["language"] == "th"
    missing = await client.get("/api/v1/issues/NOSUCH", headers=DEVICE)
    assert missing.json()["detail"] == "ไม่พบเรื่องรหัส 'NOSUCH'"


async def test_a_language_cannot_be_erased(
    client: httpx.AsyncClient, settings: Settings, db: Session
) -> None:
    headers = bearer(settings, make_user(db))

    erased = await client.patch("/api/v1/users/me", json={"language": None}, headers=headers)

    assert erased.status_code == 422
    assert erased.json()["errors"][0]["location"] == "body.language"
