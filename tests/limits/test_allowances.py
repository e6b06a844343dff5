"""Each limited action: its allowance is served, the next request answers 429 with Retry-After
and a body in the reader's language (Open311 in its own error format), and the count is per
key: another address, or another account, still passes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import Issue, User
from tests.factories import (
    IN_WEST,
    PASSWORD,
    bearer,
    make_agency,
    make_api_key,
    make_category,
    make_issue,
    make_user,
)
from tests.limits.conftest import ALLOWANCE, GENEROUS, AppWith, ClientAt, limits_on
from tests.photos.images import phone_jpeg

THAI = {"Accept-Language": "th"}
DEVICE = {"X-Device-Id": "9f1c2b7e-limits-device-0001"}


@dataclass(frozen=True)
class Town:
    settings: Settings
    citizen: User
    issues: list[Issue]  # reported by someone else, open
    own: Issue  # reported by the citizen
    api_key: str

    def bearer(self, user: User | None = None) -> dict[str, str]:
        return bearer(self.settings, user or self.citizen)


@pytest.fixture
def town(db: Session, database: Database, limited_settings: Settings) -> Town:
    pothole = make_category(db, "pothole")
    make_agency(db, categories=[pothole])
    neighbour = make_user(db)
    issues = [
        make_issue(db, database.spatial, reporter=neighbour, category=pothole)
        for _ in range(ALLOWANCE + 1)
    ]
    citizen = make_user(db)
    own = make_issue(db, database.spatial, reporter=citizen, category=pothole)
    return Town(limited_settings, citizen, issues, own, make_api_key(db, make_user(db)))


def _report(n: int) -> dict[str, object]:
    return {
        "category": "pothole",
        "title": f"Pothole number {n}",
        "latitude": IN_WEST[1],
        "longitude": IN_WEST[0],
    }


Send = Callable[[httpx.AsyncClient, Town, int, dict[str, str]], Awaitable[httpx.Response]]


async def _login(c: httpx.AsyncClient, t: Town, n: int, h: dict[str, str]) -> httpx.Response:
    body = {"email": t.citizen.email, "password": PASSWORD}
    return await c.post("/api/v1/auth/login", json=body, headers=h)


async def _register(c: httpx.AsyncClient, t: Town, n: int, h: dict[str, str]) -> httpx.Response:
    body = {
        "email": "new.neighbour@example.org",
        "password": "a lantern over the klong at dusk",
        "display_name": "New neighbour",
    }
    return await c.post("/api/v1/auth/register", json=body, headers=h)


async def _password_reset(
    c: httpx.AsyncClient, t: Town, n: int, h: dict[str, str]
) -> httpx.Response:
    body = {"email": t.citizen.email}
    return await c.post("/api/v1/auth/password-reset", json=body, headers=h)


async def _report_json(c: httpx.AsyncClient, t: Town, n: int, h: dict[str, str]) -> httpx.Response:
    return await c.post("/api/v1/issues", json=_report(n), headers=t.bearer() | h)


async def _report_device(
    c: httpx.AsyncClient, t: Town, n: int, h: dict[str, str]
) -> httpx.Response:
    return await c.post("/api/v1/issues", json=_report(n), headers=DEVICE | h)


async def _report_open311(
    c: httpx.AsyncClient, t: Town, n: int, h: dict[str, str]
) -> httpx.Response:
    form = {
        "api_key": t.api_key,
        "service_code": "pothole",
        "lat": str(IN_WEST[1]),
        "long": str(IN_WEST[0]),
        "description": f"Pothole number {n}",
        "device_id": "open311-device-0001",
    }
    return await c.post("/open311/v2/requests.json", data=form, headers=h)


async def _photo(c: httpx.AsyncClient, t: Town, n: int, h: dict[str, str]) -> httpx.Response:
    files = [("photo", ("hole.jpg", phone_jpeg(320, 240), "image/jpeg"))]
    url = f"/api/v1/issues/{t.own.public_id}/photos"
    return await c.post(url, files=files, headers=t.bearer() | h)


async def _comment(c: httpx.AsyncClient, t: Town, n: int, h: dict[str, str]) -> httpx.Response:
    url = f"/api/v1/issues/{t.issues[0].public_id}/comments"
    return await c.post(url, json={"body": f"Still there, day {n}"}, headers=t.bearer() | h)


async def _support(c: httpx.AsyncClient, t: Town, n: int, h: dict[str, str]) -> httpx.Response:
    url = f"/api/v1/issues/{t.issues[n].public_id}/support"
    return await c.post(url, headers=t.bearer() | h)


async def _flag(c: httpx.AsyncClient, t: Town, n: int, h: dict[str, str]) -> httpx.Response:
    url = f"/api/v1/issues/{t.issues[n].public_id}/flags"
    return await c.post(url, json={"reason": "abuse"}, headers=t.bearer() | h)


async def _follow_by_email(
    c: httpx.AsyncClient, t: Town, n: int, h: dict[str, str]
) -> httpx.Response:
    # The same address each time: each request mails it, whichever issue it names.
    url = f"/api/v1/issues/{t.issues[n].public_id}/follow-by-email"
    return await c.post(url, json={"email": "someone.else@example.org"}, headers=h)


async def _verify_email(c: httpx.AsyncClient, t: Town, n: int, h: dict[str, str]) -> httpx.Response:
    return await c.post("/api/v1/auth/verify-email", headers=t.bearer() | h)


async def _export(c: httpx.AsyncClient, t: Town, n: int, h: dict[str, str]) -> httpx.Response:
    return await c.get("/api/v1/exports/issues.csv", headers=h)


# What each limited action answers while within its allowance (register: the first creates the
# account, the second names the same e-mail, whatever the answer to that is, it is no 429).
CASES: dict[str, tuple[Send, set[int]]] = {
    "login": (_login, {200}),
    "register": (_register, {201, 202, 409}),
    "password-reset": (_password_reset, {202}),
    "report": (_report_json, {201}),
    "report-by-device": (_report_device, {201}),
    "report-open311": (_report_open311, {201}),
    "photo": (_photo, {201}),
    "comment": (_comment, {201}),
    "support": (_support, {200}),
    "flag": (_flag, {201}),
    "follow-by-email": (_follow_by_email, {202}),
    "verify-email": (_verify_email, {202}),
    "export": (_export, {200}),
}


@pytest.mark.parametrize("case", CASES)
async def test_after_its_allowance_an_action_answers_429_with_retry_after(
    case: str, client_at: ClientAt, town: Town
) -> None:
    send, within = CASES[case]
    client = client_at()
    for n in range(ALLOWANCE):
        answer = await send(client, town, n, {})
        assert answer.status_code in within, answer.text

    refused = await send(client, town, ALLOWANCE, THAI)

    assert refused.status_code == 429, refused.text
    assert int(refused.headers["Retry-After"]) >= 1
    if case == "report-open311":
        # GeoReport's own error list, worded for the reader.
        [error] = refused.json()
        assert error["code"] == 429
        assert "วินาที" in error["description"]
    else:
        assert refused.headers["content-type"] == "application/problem+json"
        problem = refused.json()
        assert problem["type"].endswith("/problems/too-many-requests")
        assert problem["title"] == "คำขอมากเกินไป"
        assert refused.headers["Retry-After"] in problem["detail"]


async def test_another_address_still_passes_when_one_has_spent_its_allowance(
    client_at: ClientAt, town: Town, db: Session
) -> None:
    spender = client_at("198.51.100.7")
    for n in range(ALLOWANCE):
        # Each from another account: only the address's allowance is spent.
        created = await _report_json(spender, town, n, town.bearer(make_user(db)))
        assert created.status_code == 201, created.text
    refused = await _report_json(spender, town, 9, town.bearer(make_user(db)))
    assert refused.status_code == 429

    other = await _report_json(client_at("198.51.100.8"), town, 10, town.bearer(make_user(db)))
    assert other.status_code == 201, other.text


async def test_an_account_spends_its_allowance_from_every_address(
    client_at: ClientAt, app_with: AppWith, town: Town, db: Session
) -> None:
    app = app_with(limits_on(town.settings, rate_limit_report_ip=GENEROUS))
    for n in range(ALLOWANCE):
        created = await _report_json(client_at(f"192.0.2.{n + 1}", app), town, n, {})
        assert created.status_code == 201, created.text

    refused = await _report_json(client_at("192.0.2.99", app), town, 9, {})
    assert refused.status_code == 429

    someone_else = await _report_json(
        client_at("192.0.2.99", app), town, 10, town.bearer(make_user(db))
    )
    assert someone_else.status_code == 201, someone_else.text


def test_limits_are_on_outside_tests_and_a_bad_allowance_stops_the_start() -> None:
    assert Settings(environment="development", _env_file=None).rate_limits_enabled
    assert not Settings(environment="test", _env_file=None).rate_limits_enabled
    assert Settings(
        environment="test", rate_limits_enabled=True, _env_file=None
    ).rate_limits_enabled
    with pytest.raises(ValidationError, match="rate_limit_comment"):
        Settings(rate_limit_comment="thirty an hour", _env_file=None)
