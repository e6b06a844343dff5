"""Who may keep an answer: personal answers are never stored, answers to an identified caller
only by that caller, public reads stay cacheable; and every answer varies with the credentials."""

from __future__ import annotations

import httpx
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import Role
from tests.factories import bearer, make_agency, make_category, make_issue, make_user

DEVICE = {"X-Device-Id": "3e5a7c9b-1d2f-4a6b-8c0e-9f7d5b3a1c2e"}


def varies_with_credentials(response: httpx.Response) -> bool:
    vary = {v.strip().lower() for v in response.headers.get("vary", "").split(",")}
    return {"authorization", "x-api-key", "x-device-id"} <= vary


async def test_personal_answers_are_never_stored(
    client: httpx.AsyncClient, db: Session, settings: Settings
) -> None:
    citizen = bearer(settings, make_user(db))
    for path, headers in (
        ("/api/v1/users/me", citizen),
        ("/api/v1/users/me/issues", citizen),
        ("/api/v1/users/me/api-keys", citizen),
        ("/api/v1/users/me/notification-preferences", citizen),
        ("/api/v1/watches", DEVICE),
        ("/api/v1/webhooks", citizen),  # refused, and still not stored
        ("/api/v1/users/me", {}),  # 401
    ):
        answer = await client.get(path, headers=headers)
        assert answer.headers["cache-control"] == "no-store", (path, answer.status_code)
        assert varies_with_credentials(answer), path


async def test_an_identified_callers_answer_is_private_and_a_public_read_cacheable(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings
) -> None:
    category = make_category(db, "pothole")
    agency = make_agency(db, categories=[category])
    reporter = make_user(db)
    issue = make_issue(db, database.spatial, reporter=reporter, category=category)
    agent = make_user(db, role=Role.agent, agency=agency)
    path = f"/api/v1/issues/{issue.public_id}"

    for headers in (bearer(settings, reporter), bearer(settings, agent), DEVICE):
        answer = await client.get(path, headers=headers)
        assert answer.status_code == 200
        assert answer.headers["cache-control"] == "private"
        assert varies_with_credentials(answer)

    for public in (path, "/api/v1/categories", "/open311/v2/services.json"):
        answer = await client.get(public)
        assert answer.status_code == 200
        assert "cache-control" not in answer.headers, public
        assert varies_with_credentials(answer), public


async def test_a_routes_own_cache_policy_is_kept(client: httpx.AsyncClient) -> None:
    stats = await client.get("/api/v1/stats/counts/status")
    assert stats.status_code == 200
    assert stats.headers["cache-control"].startswith("public, max-age=")
