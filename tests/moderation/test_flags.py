"""Citizens flag an issue for its moderators with a reason (abuse, personal data, not a civic
issue, duplicate), once each; the agencies involved and admins read who flagged it and why."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from tests.factories import bearer
from tests.lifecycle.helpers import City, report
from tests.moderation.surfaces import STRANGER_DEVICE


async def flag(
    client: httpx.AsyncClient, issue_id: str, headers: dict[str, str], **body: object
) -> httpx.Response:
    return await client.post(f"/api/v1/issues/{issue_id}/flags", headers=headers, json=body)


@pytest.mark.parametrize("reason", ["abuse", "personal_data", "not_civic", "duplicate"])
async def test_anyone_flags_an_issue_once_with_a_reason(
    client: httpx.AsyncClient,
    settings: Settings,
    database: Database,
    db: Session,
    city: City,
    reason: str,
) -> None:
    issue_id = report(db, database, city)
    first = await flag(client, issue_id, STRANGER_DEVICE, reason=reason, note="see photo")
    assert first.status_code == 201, first.text
    assert first.json() == {"issue": issue_id, "flagged": True, "reason": reason}
    again = await flag(client, issue_id, STRANGER_DEVICE, reason="abuse")
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert issue_id in again.json()["detail"]
    other = await flag(client, issue_id, bearer(settings, city.stranger), reason="abuse")
    assert other.status_code == 201

    listed = await client.get(
        f"/api/v1/issues/{issue_id}/flags", headers=bearer(settings, city.agent)
    )
    assert listed.status_code == 200, listed.text
    assert [(f["reason"], f["note"], f["by"]["role"]) for f in listed.json()] == [
        (reason, "see photo", "citizen"),
        ("abuse", None, "citizen"),
    ]


async def test_who_flagged_is_for_the_agencies_involved_and_admins_only(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    issue_id = report(db, database, city)
    assert (await flag(client, issue_id, STRANGER_DEVICE, reason="abuse")).status_code == 201
    for user in (city.stranger, city.reporter, city.east_agent):
        refused = await client.get(
            f"/api/v1/issues/{issue_id}/flags", headers=bearer(settings, user)
        )
        assert refused.status_code == 403, user
    admin = await client.get(
        f"/api/v1/issues/{issue_id}/flags", headers=bearer(settings, city.admin)
    )
    assert len(admin.json()) == 1


async def test_an_unknown_reason_is_refused_in_the_readers_language(
    client: httpx.AsyncClient, database: Database, db: Session, city: City
) -> None:
    issue_id = report(db, database, city)
    for body in ({"reason": "ugly"}, {}, {"reason": "abuse", "note": "x" * 501}):
        refused = await flag(client, issue_id, {**STRANGER_DEVICE, "Accept-Language": "th"}, **body)
        assert refused.status_code == 422, body
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["content-language"] == "th"
    missing = await flag(client, "ZZZZZZZZZZ", STRANGER_DEVICE, reason="abuse")
    assert missing.status_code == 404


async def test_a_hidden_issue_is_not_flagged_again(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    issue_id = report(db, database, city)
    hidden = await client.post(
        f"/api/v1/issues/{issue_id}/moderation",
        headers=bearer(settings, city.admin),
        json={"hidden": True, "reason": "abusive"},
    )
    assert hidden.status_code == 200, hidden.text
    refused = await flag(client, issue_id, bearer(settings, city.admin), reason="abuse")
    assert refused.status_code == 409
    assert refused.json()["type"].endswith("issue-hidden")
