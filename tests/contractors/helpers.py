"""Handing work over as the agency, and acting through the link as the contractor."""

from __future__ import annotations

from typing import Any

import httpx

from app.config import Settings
from app.models import User
from tests.factories import bearer
from tests.lifecycle.helpers import problem_type


async def hand_over(
    client: httpx.AsyncClient,
    settings: Settings,
    staff: User,
    issue_id: str,
    *,
    headers: dict[str, str] | None = None,
    **body: Any,
) -> httpx.Response:
    sent = {"contractor": "Siam Roadworks Co.", "instructions": "Fill the pothole.", **body}
    return await client.post(
        f"/api/v1/issues/{issue_id}/contractor-links",
        headers={**bearer(settings, staff), **(headers or {})},
        json=sent,
    )


async def handed_link(
    client: httpx.AsyncClient, settings: Settings, staff: User, issue_id: str, **body: Any
) -> str:
    """The contractor's API address of a new hand-over (no host: the test client's own)."""
    response = await hand_over(client, settings, staff, issue_id, **body)
    assert response.status_code == 201, response.text
    api_url: str = response.json()["api_url"]
    return api_url.removeprefix(settings.public_base_url)


def gone(response: httpx.Response) -> str:
    """The reason a link stopped working, after checking it answered 410."""
    assert response.status_code == 410, response.text
    assert problem_type(response) == "link-gone"
    detail: str = response.json()["detail"]
    return detail
