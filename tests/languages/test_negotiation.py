"""Which language an answer is in: the client's Accept-Language, else the user's setting."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.orm import Session

from app import i18n
from app.config import Settings
from app.models import Language
from tests.factories import bearer, make_user


@pytest.mark.parametrize(
    ("header", "saved", "expected"),
    [
        ("th", None, Language.th),
        ("th-TH,th;q=0.9,en;q=0.8", None, Language.th),
        ("en-GB,en;q=0.9", Language.th, Language.en),
        ("fr-FR, en;q=0.5, th;q=0.7", None, Language.th),
        ("fr-FR, de", Language.th, Language.th),
        ("*", None, Language.en),
        ("th;q=0, en", None, Language.en),
        ("th;q=nonsense, en;q=0.1", None, Language.en),
        (None, Language.th, Language.th),
        (None, None, Language.en),
        ("", None, Language.en),
        (";;,,  ;q=1", None, Language.en),
    ],
)
def test_accept_language_first_then_the_saved_setting(
    header: str | None, saved: Language | None, expected: Language
) -> None:
    assert i18n.negotiate(header, saved) == expected


def test_both_catalogs_hold_the_same_texts_with_the_same_placeholders() -> None:
    english, thai = i18n.catalog(Language.en), i18n.catalog(Language.th)
    assert english.keys() == thai.keys()
    for key, text in english.items():
        assert i18n.placeholders(text) == i18n.placeholders(thai[key]), key
        assert thai[key].strip(), key


def test_every_problem_type_has_a_title_in_both_languages() -> None:
    from app.errors import DomainError

    def subclasses(cls: type[DomainError]) -> list[type[DomainError]]:
        return [cls, *(sub for child in cls.__subclasses__() for sub in subclasses(child))]

    for cls in subclasses(DomainError):
        assert i18n.has(f"problem.{cls.slug}"), cls.slug


async def test_a_problem_is_titled_in_the_language_the_client_asks_for(
    client: httpx.AsyncClient,
) -> None:
    thai = await client.get("/api/v1/issues/NOSUCHISSUE", headers={"Accept-Language": "th"})
    english = await client.get("/api/v1/issues/NOSUCHISSUE", headers={"Accept-Language": "en"})

    assert thai.status_code == english.status_code == 404
    assert thai.json()["title"] == "ไม่พบข้อมูล"
    assert thai.headers["content-language"] == "th"
    assert english.json()["title"] == "Not found"
    assert english.headers["content-language"] == "en"


async def test_without_a_header_a_signed_in_user_is_answered_in_their_saved_language(
    client: httpx.AsyncClient, db: Session, settings: Settings
) -> None:
    user = make_user(db)
    user.language = Language.th
    db.commit()

    saved = await client.get("/api/v1/issues/unrouted", headers=bearer(settings, user))
    asked = await client.get(
        "/api/v1/issues/unrouted", headers={**bearer(settings, user), "Accept-Language": "en"}
    )

    assert saved.status_code == asked.status_code == 403
    assert saved.json()["title"] == "ไม่มีสิทธิ์ทำรายการนี้"
    assert asked.json()["title"] == "Not allowed"


async def test_a_problem_type_page_gives_its_title_in_both_languages(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/problems/not-found")

    assert page.status_code == 200
    assert "<h1>Not found</h1>" in page.text
    assert '<p lang="th">ไม่พบข้อมูล</p>' in page.text
