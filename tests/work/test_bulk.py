"""Bulk operations: one action on many issues, each succeeding or failing on its own, with a
result per issue."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import EventAction, IssueEvent, IssueStatus, User
from tests.factories import IN_WEST, bearer
from tests.lifecycle.helpers import act, event_count, stored_count, stored_issue
from tests.work.helpers import Office, claimed_issue, new_issue

URL = "/api/v1/issues/bulk"


async def bulk(
    client: httpx.AsyncClient,
    settings: Settings,
    user: User,
    do: dict[str, Any],
    items: list[dict[str, Any]],
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return await client.post(
        URL,
        headers={"Accept-Language": "en", **bearer(settings, user), **(headers or {})},
        json={"do": do, "issues": items},
    )


async def test_a_bulk_claim_succeeds_where_it_can_and_says_why_not_elsewhere(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, office: Office
) -> None:
    first, second = new_issue(db, database, office), new_issue(db, database, office)
    taken = new_issue(db, database, office)
    assert (await act(client, settings, office.rival, taken, "claim")).status_code == 200
    events_before = stored_count(database, IssueEvent)

    response = await bulk(
        client,
        settings,
        office.agent,
        {"action": "claim"},
        [{"id": i, "version": "*"} for i in (first, taken, "ZZZZZZZZ", second)],
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert [(r["id"], r["status"]) for r in body["results"]] == [
        (first, 200),
        (taken, 409),
        ("ZZZZZZZZ", 404),
        (second, 200),
    ]
    assert (body["succeeded"], body["failed"]) == (2, 2)
    for result in body["results"]:
        if result["status"] == 200:
            assert result["problem"] is None
            assert result["version"] == stored_issue(database, result["id"]).version
        else:
            assert result["version"] is None
            assert result["problem"]["status"] == result["status"]
    assert body["results"][1]["problem"]["type"].endswith("/already-claimed")
    assert body["results"][1]["problem"]["detail"] == "Another agency claimed this issue first."
    # The failures undid nothing: both claims and their events are stored, nothing else.
    for issue_id in (first, second):
        stored = stored_issue(database, issue_id)
        assert (stored.status, stored.agency_id) == (IssueStatus.acknowledged, office.west.id)
    assert stored_issue(database, taken).agency_id == office.metro.id
    assert stored_count(database, IssueEvent) == events_before + 2


async def test_any_lifecycle_step_and_assignment_go_in_bulk_with_per_item_versions(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, office: Office
) -> None:
    a = await claimed_issue(client, db, database, settings, office)
    b = await claimed_issue(client, db, database, settings, office)
    version_a = stored_issue(database, a).version

    assigned = await bulk(
        client,
        settings,
        office.manager,
        {"action": "assign", "assignee": office.colleague.id},
        [{"id": a, "version": version_a}, {"id": b, "version": "*"}],
    )
    assert [r["status"] for r in assigned.json()["results"]] == [200, 200]
    assert {stored_issue(database, i).assignee_id for i in (a, b)} == {office.colleague.id}

    # Item a was decided on its old version: it fails with 412, b still resolves.
    resolved = await bulk(
        client,
        settings,
        office.colleague,
        {"action": "resolve", "resolution": "fixed", "note": "Filled"},
        [{"id": a, "version": version_a}, {"id": b, "version": "*"}],
    )
    results = resolved.json()["results"]
    assert [r["status"] for r in results] == [412, 200]
    assert results[0]["problem"]["current_version"] == stored_issue(database, a).version
    assert stored_issue(database, a).status == IssueStatus.acknowledged
    assert stored_issue(database, b).status == IssueStatus.resolved


async def test_an_issue_listed_twice_is_changed_once(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, office: Office
) -> None:
    issue_id = new_issue(db, database, office)
    item = {"id": issue_id, "version": "*"}
    response = await bulk(client, settings, office.agent, {"action": "claim"}, [item, item])
    assert [r["status"] for r in response.json()["results"]] == [200, 422]
    assert "more than once" in response.json()["results"][1]["problem"]["detail"]
    events = (await client.get(f"/api/v1/issues/{issue_id}/events")).json()
    assert [e["action"] for e in events] == [EventAction.reported, EventAction.claimed]


async def test_a_retry_with_the_same_idempotency_key_changes_nothing_more(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, office: Office
) -> None:
    issue_id = new_issue(db, database, office)
    key = {"Idempotency-Key": "bulk-claim-0001"}
    items = [{"id": issue_id, "version": "*"}]
    first = await bulk(client, settings, office.agent, {"action": "claim"}, items, key)
    events = event_count(database, issue_id)

    again = await bulk(client, settings, office.agent, {"action": "claim"}, items, key)

    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert event_count(database, issue_id) == events


async def test_a_bulk_request_is_bounded_and_checked_before_anything_changes(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, office: Office
) -> None:
    issue_id = new_issue(db, database, office)
    too_many = [{"id": issue_id}] * 101
    for do, items in (
        ({"action": "claim"}, too_many),
        ({"action": "claim"}, []),
        ({"action": "resolve"}, [{"id": issue_id}]),  # says how it was resolved
        ({"action": "demolish"}, [{"id": issue_id}]),
        ({"action": "assign"}, [{"id": issue_id}]),  # says to whom (null to release)
        ({"action": "claim"}, [{"id": issue_id, "version": 0}]),
    ):
        response = await bulk(client, settings, office.agent, do, items)
        assert response.status_code == 422, (do, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    assert event_count(database, issue_id) == 1
    anonymous = await client.post(URL, json={"do": {"action": "claim"}, "issues": [{"id": "X"}]})
    assert anonymous.status_code == 401


async def test_a_citizen_gets_a_result_per_issue_not_a_change(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, office: Office
) -> None:
    issue_id = new_issue(db, database, office)
    response = await bulk(
        client, settings, office.reporter, {"action": "claim"}, [{"id": issue_id}]
    )
    assert response.status_code == 200
    [result] = response.json()["results"]
    assert (result["status"], result["problem"]["type"].rsplit("/", 1)[-1]) == (403, "forbidden")
    assert event_count(database, issue_id) == 1


async def test_staff_items_without_a_version_fail_with_428_as_a_change_without_if_match(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, office: Office
) -> None:
    """Staff name the version each item was decided on (or "*"), as If-Match on a single
    change; an item without one fails on its own with 428 and changes nothing."""
    unnamed, named, any_version = (new_issue(db, database, office) for _ in range(3))
    events_before = stored_count(database, IssueEvent)

    response = await bulk(
        client,
        settings,
        office.agent,
        {"action": "claim"},
        [
            {"id": unnamed},
            {"id": named, "version": stored_issue(database, named).version},
            {"id": any_version, "version": "*"},
        ],
    )

    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [(r["id"], r["status"]) for r in results] == [
        (unnamed, 428),
        (named, 200),
        (any_version, 200),
    ]
    problem = results[0]["problem"]
    assert problem["type"].endswith("/precondition-required")
    assert problem["field"] == "body.issues.0.version"
    assert '"version": "*"' in problem["detail"]
    assert stored_issue(database, unnamed).status == IssueStatus.open
    assert stored_count(database, IssueEvent) == events_before + 2

    # An admin is staff too; the Thai reader gets the reason in Thai.
    admin = await bulk(
        client,
        settings,
        office.admin,
        {"action": "claim"},
        [{"id": unnamed}],
        headers={"Accept-Language": "th"},
    )
    [result] = admin.json()["results"]
    assert result["status"] == 428
    assert result["problem"]["detail"].startswith("การเปลี่ยนแปลงเรื่องโดยเจ้าหน้าที่ต้องระบุฉบับ")
    assert stored_issue(database, unnamed).status == IssueStatus.open


async def test_a_phone_still_reports_with_neither_if_match_nor_a_version(
    client: httpx.AsyncClient, office: Office
) -> None:
    # A phone reports with neither If-Match nor a version.
    report = await client.post(
        "/api/v1/issues",
        headers={"X-Device-Id": "bulk-test-device-0123456789"},
        json={
            "category": office.category.code,
            "title": "Broken kerb",
            "latitude": IN_WEST[1],
            "longitude": IN_WEST[0],
        },
    )
    assert report.status_code == 201, report.text
