"""Staff work on an issue together, so each change of theirs names the version it was made on:
without `If-Match` it is 428 Precondition Required (RFC 6585), saying which header to send, and
nothing changes. `If-Match: *` changes whatever version is current. Citizens' apps (reports, a
reporter's edit or reopening) may leave the header out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import User
from tests.factories import IN_WEST, bearer
from tests.lifecycle.helpers import City, drive, problem_type, report, stored_events, stored_issue

Change = Callable[[httpx.AsyncClient, str, dict[str, str]], Awaitable[httpx.Response]]


async def _edit(
    client: httpx.AsyncClient, issue_id: str, headers: dict[str, str]
) -> httpx.Response:
    return await client.patch(
        f"/api/v1/issues/{issue_id}", headers=headers, json={"priority": "high"}
    )


async def _start(
    client: httpx.AsyncClient, issue_id: str, headers: dict[str, str]
) -> httpx.Response:
    return await client.post(
        f"/api/v1/issues/{issue_id}/transitions", headers=headers, json={"action": "start"}
    )


async def _assign_to_self(
    client: httpx.AsyncClient, issue_id: str, headers: dict[str, str]
) -> httpx.Response:
    me = (await client.get("/api/v1/users/me", headers=headers)).json()["id"]
    return await client.put(
        f"/api/v1/issues/{issue_id}/assignee", headers=headers, json={"assignee": me}
    )


CHANGES: dict[str, tuple[Change, str]] = {
    # What, and who (of the city) makes it.
    "edit": (_edit, "agent"),
    "transition": (_start, "agent"),
    "assignment": (_assign_to_self, "agent"),
    "transition by an admin": (_start, "admin"),
}


@pytest.mark.parametrize("change", CHANGES, ids=CHANGES)
async def test_a_staff_change_without_if_match_is_428_and_changes_nothing(
    change: str,
    client: httpx.AsyncClient,
    db: Session,
    database: Database,
    settings: Settings,
    city: City,
) -> None:
    make, who = CHANGES[change]
    staff: User = getattr(city, who)
    issue_id = report(db, database, city)
    await drive(client, settings, city.agent, issue_id, "acknowledged")
    headers = {**bearer(settings, staff), "Accept-Language": "en"}
    before = stored_issue(database, issue_id).version

    refused = await make(client, issue_id, headers)

    assert refused.status_code == 428, refused.text
    assert problem_type(refused) == "precondition-required"
    assert refused.json()["header"] == "If-Match"
    assert "send If-Match with the ETag of your last read of the issue" in refused.json()["detail"]
    assert stored_issue(database, issue_id).version == before
    assert len(stored_events(database, issue_id)) == 2  # reported, claimed

    etag = (await client.get(f"/api/v1/issues/{issue_id}")).headers["ETag"]
    done = await make(client, issue_id, {**headers, "If-Match": etag})
    assert done.status_code == 200, done.text
    assert stored_issue(database, issue_id).version == before + 1


async def test_a_merge_without_if_match_is_428(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, city: City
) -> None:
    canonical, duplicate = report(db, database, city), report(db, database, city)
    url = f"/api/v1/issues/{duplicate}/merge"
    admin = bearer(settings, city.admin)
    refused = await client.post(url, headers=admin, json={"into": canonical})
    assert refused.status_code == 428, refused.text
    assert stored_issue(database, duplicate).status == "open"
    merged = await client.post(url, headers={**admin, "If-Match": "*"}, json={"into": canonical})
    assert merged.status_code == 200, merged.text


async def test_the_refusal_is_worded_in_thai(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, city: City
) -> None:
    issue_id = report(db, database, city)
    refused = await client.post(
        f"/api/v1/issues/{issue_id}/transitions",
        headers={**bearer(settings, city.agent), "Accept-Language": "th"},
        json={"action": "claim"},
    )
    assert refused.status_code == 428
    assert refused.json()["title"] == "ต้องระบุฉบับที่จะเปลี่ยน"
    assert refused.json()["detail"].startswith("การเปลี่ยนแปลงเรื่องโดยเจ้าหน้าที่ต้องระบุฉบับ")


async def test_citizens_report_edit_and_reopen_without_if_match(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, city: City
) -> None:
    device = {"X-Device-Id": "b1f6c0de-4a7e-4c1b-9f2d-6e5a3c8d7f90"}
    reported = await client.post(
        "/api/v1/issues",
        headers=device,
        json={
            "category": city.category.code,
            "title": "Hole by the bus stop",
            "latitude": IN_WEST[1],
            "longitude": IN_WEST[0],
        },
    )
    assert reported.status_code == 201, reported.text
    fixed = await client.patch(
        f"/api/v1/issues/{reported.json()['id']}", headers=device, json={"title": "Deep hole"}
    )
    assert fixed.status_code == 200, fixed.text

    issue_id = report(db, database, city)
    await drive(client, settings, city.agent, issue_id, "resolved")
    reopened = await client.post(
        f"/api/v1/issues/{issue_id}/transitions",
        headers=bearer(settings, city.reporter),
        json={"action": "reopen", "note": "Still there"},
    )
    assert reopened.status_code == 200, reopened.text
