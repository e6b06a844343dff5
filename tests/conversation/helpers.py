"""Acting on an issue's conversation over HTTP."""

from __future__ import annotations

from typing import Any

import httpx

from app.config import Settings
from app.models import User
from tests.factories import bearer

DEVICE = {"X-Device-Id": "a-phone-with-a-long-secret-id-0001"}
OTHER_DEVICE = {"X-Device-Id": "another-phone-with-a-secret-id-02"}


def who(settings: Settings, user: User | None) -> dict[str, str]:
    return bearer(settings, user) if user is not None else {}


async def comment(
    client: httpx.AsyncClient, headers: dict[str, str], issue_id: str, **body: Any
) -> httpx.Response:
    return await client.post(f"/api/v1/issues/{issue_id}/comments", headers=headers, json=body)


async def timeline(
    client: httpx.AsyncClient, headers: dict[str, str], issue_id: str
) -> list[dict[str, Any]]:
    response = await client.get(f"/api/v1/issues/{issue_id}/timeline", headers=headers)
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()
    return entries


async def hide_issue(
    client: httpx.AsyncClient, settings: Settings, user: User, issue_id: str, hidden: bool = True
) -> httpx.Response:
    body: dict[str, Any] = {"hidden": hidden}
    if hidden:
        body["reason"] = "abusive text"
    return await client.post(
        f"/api/v1/issues/{issue_id}/moderation", headers=bearer(settings, user), json=body
    )
