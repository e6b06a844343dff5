"""Errors a citizen or an agent reads, in Thai and in English; codes and locations stay put."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import Agency, Language, Role, User
from tests.factories import bearer, if_match, make_agency, make_category, make_issue, make_user

THAI = {"Accept-Language": "th"}
ENGLISH = {"Accept-Language": "en"}


async def both(
    client: httpx.AsyncClient, method: str, url: str, status: int, **request: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The same request in Thai and in English: the same status and type, each in its language."""
    headers = request.pop("headers", {})
    thai = await client.request(method, url, headers={**headers, **THAI}, **request)
    english = await client.request(method, url, headers={**headers, **ENGLISH}, **request)
    assert thai.status_code == english.status_code == status, (thai.text, english.text)
    assert thai.headers["content-language"] == "th"
    assert english.headers["content-language"] == "en"
    assert thai.json()["type"] == english.json()["type"]
    return thai.json(), english.json()


@pytest.fixture
def agent(db: Session) -> User:
    return make_user(db, Role.agent, agency=make_agency(db, categories=[make_category(db)]))


@pytest.fixture
def handling(db: Session) -> Agency:
    """The agency lights issues are routed to."""
    return make_agency(db, categories=[make_category(db, "lights")], slug="lights-dept")


@pytest.fixture
def issue_id(db: Session, database: Database, handling: Agency) -> str:
    (category,) = handling.categories
    return make_issue(db, database.spatial, reporter=make_user(db), category=category).public_id


async def test_a_missing_issue_is_not_found_in_either_language(client: httpx.AsyncClient) -> None:
    thai, english = await both(client, "GET", "/api/v1/issues/NOSUCH", 404)

    assert english["detail"] == "No issue with id 'NOSUCH'."
    assert thai["detail"] == "ไม่พบเรื่องรหัส 'NOSUCH'"


async def test_a_lifecycle_refusal_names_the_step_and_what_is_allowed_in_each_language(
    client: httpx.AsyncClient, settings: Settings, db: Session, handling: Agency, issue_id: str
) -> None:
    staff = make_user(db, Role.agent, agency=handling)
    url = f"/api/v1/issues/{issue_id}/transitions"
    headers = await if_match(client, issue_id, bearer(settings, staff))
    claimed = await client.post(url, json={"action": "claim"}, headers=headers)
    assert claimed.status_code == 200
    headers = await if_match(client, issue_id, bearer(settings, staff))

    thai, english = await both(client, "POST", url, 409, json={"action": "close"}, headers=headers)

    assert english["allowed_actions"] == thai["allowed_actions"] == ["start", "resolve", "transfer"]
    assert english["detail"] == (
        "Cannot close an issue whose status is “Acknowledged”; allowed now: start, resolve, "
        "transfer."
    )
    assert thai["detail"] == (
        "ปิดเรื่องเรื่องที่มีสถานะ “รับเรื่องแล้ว” ไม่ได้ สิ่งที่ทำได้ตอนนี้: เริ่มดำเนินการ, แจ้งแก้ไขเสร็จ, โอนเรื่อง"
    )
    assert thai["title"] == "เปลี่ยนสถานะนี้จากสถานะปัจจุบันไม่ได้"


async def test_staff_of_another_agency_are_told_why_in_their_language(
    client: httpx.AsyncClient, settings: Settings, agent: User, issue_id: str
) -> None:
    thai, english = await both(
        client,
        "POST",
        f"/api/v1/issues/{issue_id}/transitions",
        403,
        json={"action": "start"},
        headers=await if_match(client, issue_id, bearer(settings, agent)),
    )

    assert english["detail"] == "You may not start this issue: it was not routed to your agency."
    assert thai["detail"] == "คุณเริ่มดำเนินการเรื่องนี้ไม่ได้: เรื่องนี้ไม่ได้ส่งมายังหน่วยงานของคุณ"


async def test_sign_in_failures_are_worded_for_the_reader(client: httpx.AsyncClient) -> None:
    thai, english = await both(
        client,
        "POST",
        "/api/v1/auth/login",
        401,
        json={"email": "nobody@example.org", "password": "not the password"},
    )

    assert english["detail"] == "The e-mail or password is not correct."
    assert thai["detail"] == "อีเมลหรือรหัสผ่านไม่ถูกต้อง"


async def test_request_validation_is_worded_by_error_type_with_stable_codes_and_locations(
    client: httpx.AsyncClient, settings: Settings, db: Session
) -> None:
    reporter = bearer(settings, make_user(db))
    report = {"category": "lights", "title": "x", "latitude": 91, "longitude": 100.5, "extra": 1}

    thai, english = await both(client, "POST", "/api/v1/issues", 422, json=report, headers=reporter)

    def by_location(body: dict[str, Any]) -> dict[str, tuple[str, str]]:
        return {e["location"]: (e["code"], e["message"]) for e in body["errors"]}

    assert by_location(english) == {
        "body.title": ("string_too_short", "String should have at least 3 characters"),
        "body.latitude": ("less_than_equal", "Input should be less than or equal to 90"),
        "body.extra": ("extra_forbidden", "Extra inputs are not permitted"),
    }
    assert by_location(thai) == {
        "body.title": ("string_too_short", "ต้องมีอย่างน้อย 3 ตัวอักษร"),
        "body.latitude": ("less_than_equal", "ต้องน้อยกว่าหรือเท่ากับ 90"),
        "body.extra": ("extra_forbidden", "ไม่รับข้อมูลช่องนี้"),
    }
    assert "body.title: ต้องมีอย่างน้อย 3 ตัวอักษร" in thai["detail"]


@pytest.mark.parametrize(
    ("body", "code", "english", "thai"),
    [
        ({}, "missing", "Field required", "จำเป็นต้องระบุ"),
        ({"language": None}, "value_error", "may be left out, but not set to null", "ห้ามเป็น null"),
        ({"language": "fr"}, "enum", "Input should be 'th' or 'en'", "ต้องเป็นค่าใดค่าหนึ่ง"),
        ({"language": 5}, "enum", "Input should be 'th' or 'en'", "'th' or 'en'"),
    ],
)
async def test_common_validation_problems_in_both_languages(
    client: httpx.AsyncClient,
    settings: Settings,
    db: Session,
    body: dict[str, Any],
    code: str,
    english: str,
    thai: str,
) -> None:
    if body == {}:
        url, method = "/api/v1/auth/login", "POST"
    else:
        url, method = "/api/v1/users/me", "PATCH"
    answers = await both(
        client, method, url, 422, json=body, headers=bearer(settings, make_user(db))
    )

    (th_problem, *_), (en_problem, *_) = (a["errors"] for a in answers)
    assert th_problem["code"] == en_problem["code"] == code
    assert th_problem["location"] == en_problem["location"]
    assert english in en_problem["message"]
    assert thai in th_problem["message"]


async def test_photo_refusals_in_both_languages(
    client: httpx.AsyncClient, settings: Settings, db: Session, database: Database, handling: Agency
) -> None:
    reporter = make_user(db)
    (category,) = handling.categories
    issue = make_issue(db, database.spatial, reporter=reporter, category=category)
    url = f"/api/v1/issues/{issue.public_id}/photos"
    empty = {"photo": ("empty.jpg", b"", "image/jpeg")}

    thai, english = await both(
        client, "POST", url, 422, files=empty, headers=bearer(settings, reporter)
    )
    assert english["detail"].startswith("Photo 1 ('empty.jpg') is empty")
    assert thai["detail"].startswith("ภาพที่ 1 ('empty.jpg') ว่างเปล่า")

    thai, english = await both(
        client, "POST", url, 403, files=empty, headers=bearer(settings, make_user(db))
    )
    assert english["detail"] == "Only the reporter may add report photos to this issue."
    assert thai["detail"] == "เฉพาะผู้แจ้งเท่านั้นที่เพิ่มภาพประกอบการแจ้งเรื่องนี้ได้"


async def test_open311_answers_in_its_own_format_and_the_request_language(
    client: httpx.AsyncClient,
) -> None:
    url = f"/open311/v2/requests/{'x' * 65}.json"
    thai = await client.get(url, headers=THAI)
    english = await client.get(url, headers=ENGLISH)

    assert thai.status_code == english.status_code == 400
    assert thai.json()[0]["code"] == english.json()[0]["code"] == 400
    assert english.json()[0]["description"] == (
        "service_request_id: String should have at most 64 characters"
    )
    assert thai.json()[0]["description"] == "service_request_id: ต้องมีไม่เกิน 64 ตัวอักษร"


async def test_a_user_without_a_header_reads_errors_in_their_saved_language(
    client: httpx.AsyncClient, settings: Settings, db: Session, agent: User, issue_id: str
) -> None:
    agent.language = Language.th
    db.commit()
    url = f"/api/v1/issues/{issue_id}/transitions"
    staff = await if_match(client, issue_id, bearer(settings, agent))

    saved = await client.post(url, json={"action": "start"}, headers=staff)
    asked = await client.post(url, json={"action": "start"}, headers={**staff, **ENGLISH})

    assert saved.status_code == asked.status_code == 403
    assert saved.json()["detail"].startswith("คุณเริ่มดำเนินการเรื่องนี้ไม่ได้")
    assert asked.json()["detail"].startswith("You may not start this issue")
