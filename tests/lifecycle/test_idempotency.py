"""Idempotency keys: a retried create (or lifecycle step) is answered with the first response and
creates nothing new, even when the retries arrive at the same moment."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import IdempotencyRecord, Issue, IssueEvent, User
from app.models.base import utcnow
from tests.factories import IN_WEST, bearer
from tests.lifecycle.helpers import (
    City,
    act,
    problem_type,
    report,
    stored_count,
    stored_events,
    stored_issue,
)

ISSUES = "/api/v1/issues"
REPLAYED = "idempotent-replayed"


def new_key() -> str:
    return str(uuid.uuid4())


def report_body(title: str = "Deep pothole by the bus stop") -> dict[str, Any]:
    return {
        "category": "pothole",
        "title": title,
        "latitude": IN_WEST[1],
        "longitude": IN_WEST[0],
    }


def assert_same_answer(replay: httpx.Response, first: httpx.Response) -> None:
    assert replay.status_code == first.status_code, replay.text
    assert replay.headers[REPLAYED] == "true"
    assert replay.content == first.content
    for header in ("location", "etag", "content-type"):
        assert replay.headers.get(header) == first.headers.get(header), header


async def test_a_retried_report_gets_the_first_answer(
    client: httpx.AsyncClient, database: Database, settings: Settings, city: City
) -> None:
    headers = {**bearer(settings, city.reporter), "Idempotency-Key": new_key()}
    first = await client.post(ISSUES, headers=headers, json=report_body())
    assert first.status_code == 201, first.text
    assert REPLAYED not in first.headers
    assert first.headers["location"].endswith(f"{ISSUES}/{first.json()['id']}")

    for _ in range(2):
        assert_same_answer(await client.post(ISSUES, headers=headers, json=report_body()), first)

    assert stored_count(database, Issue) == 1
    assert stored_count(database, IssueEvent) == 1
    assert stored_count(database, IdempotencyRecord) == 1


async def test_concurrent_retries_create_one_issue(
    client: httpx.AsyncClient, database: Database, settings: Settings, city: City
) -> None:
    for _ in range(3):
        headers = {**bearer(settings, city.reporter), "Idempotency-Key": new_key()}
        responses = await asyncio.gather(
            *(client.post(ISSUES, headers=headers, json=report_body()) for _ in range(5))
        )
        assert [r.status_code for r in responses] == [201] * 5, [r.text for r in responses]
        assert len({r.json()["id"] for r in responses}) == 1
        originals = [r for r in responses if REPLAYED not in r.headers]
        assert len(originals) == 1
        for replay in responses:
            if replay is not originals[0]:
                assert_same_answer(replay, originals[0])
    assert stored_count(database, Issue) == 3
    assert stored_count(database, IssueEvent) == 3


async def test_the_same_key_with_another_body_is_refused(
    client: httpx.AsyncClient, database: Database, settings: Settings, city: City
) -> None:
    headers = {**bearer(settings, city.reporter), "Idempotency-Key": new_key()}
    first = await client.post(ISSUES, headers=headers, json=report_body())
    assert first.status_code == 201, first.text

    other = await client.post(ISSUES, headers=headers, json=report_body("Another pothole"))
    assert other.status_code == 422, other.text
    assert problem_type(other) == "idempotency-key-reused"
    assert REPLAYED not in other.headers
    # Another endpoint is another request too.
    elsewhere = await act(
        client, settings, city.reporter, first.json()["id"], "reopen", note="x", headers=headers
    )
    assert elsewhere.status_code == 422, elsewhere.text
    assert problem_type(elsewhere) == "idempotency-key-reused"
    assert stored_count(database, Issue) == 1
    # The original answer is still there for retries.
    assert_same_answer(await client.post(ISSUES, headers=headers, json=report_body()), first)


async def test_keys_belong_to_one_caller(
    client: httpx.AsyncClient, database: Database, settings: Settings, city: City
) -> None:
    key = new_key()
    mine = await client.post(
        ISSUES,
        headers={**bearer(settings, city.reporter), "Idempotency-Key": key},
        json=report_body(),
    )
    theirs = await client.post(
        ISSUES,
        headers={**bearer(settings, city.stranger), "Idempotency-Key": key},
        json=report_body(),
    )
    assert (mine.status_code, theirs.status_code) == (201, 201), theirs.text
    assert REPLAYED not in theirs.headers
    assert mine.json()["id"] != theirs.json()["id"]
    assert theirs.json()["reporter"]["id"] == city.stranger.id
    assert stored_count(database, Issue) == 2
    assert stored_count(database, IdempotencyRecord) == 2


async def test_a_refused_request_does_not_use_up_its_key(
    client: httpx.AsyncClient, database: Database, settings: Settings, city: City
) -> None:
    headers = {**bearer(settings, city.reporter), "Idempotency-Key": new_key()}
    unknown_category = {**report_body(), "category": "volcano"}
    too_short = report_body("x")
    for wrong in (unknown_category, too_short):
        refused = await client.post(ISSUES, headers=headers, json=wrong)
        assert refused.status_code == 422, refused.text
        assert problem_type(refused) == "validation-failed"
    assert stored_count(database, IdempotencyRecord) == 0

    corrected = await client.post(ISSUES, headers=headers, json=report_body())
    assert corrected.status_code == 201, corrected.text
    assert REPLAYED not in corrected.headers
    assert stored_count(database, Issue) == 1
    assert_same_answer(await client.post(ISSUES, headers=headers, json=report_body()), corrected)


async def test_a_device_first_report_retried(
    client: httpx.AsyncClient, database: Database, settings: Settings, city: City
) -> None:
    device = {"X-Device-Id": f"device-{uuid.uuid4()}", "Idempotency-Key": new_key()}
    first = await client.post(ISSUES, headers=device, json=report_body())
    assert first.status_code == 201, first.text
    assert_same_answer(await client.post(ISSUES, headers=device, json=report_body()), first)

    # The device's user was made by the first request, and the retry was still recognised.
    with database.session(write=False) as session:
        device_users = session.scalars(select(User).where(User.device_id_hash.is_not(None))).all()
    assert len(device_users) == 1
    assert stored_count(database, Issue) == 1
    assert stored_issue(database, first.json()["id"]).reporter_id == device_users[0].id

    # A later report from the same device, with a new key, is a new issue by the same user.
    later = await client.post(
        ISSUES, headers={**device, "Idempotency-Key": new_key()}, json=report_body()
    )
    assert later.status_code == 201, later.text
    assert stored_issue(database, later.json()["id"]).reporter_id == device_users[0].id


async def test_a_device_first_report_retried_at_the_same_moment(
    client: httpx.AsyncClient, database: Database, settings: Settings, city: City
) -> None:
    device = {"X-Device-Id": f"device-{uuid.uuid4()}", "Idempotency-Key": new_key()}
    responses = await asyncio.gather(
        *(client.post(ISSUES, headers=device, json=report_body()) for _ in range(5))
    )
    assert [r.status_code for r in responses] == [201] * 5, [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(REPLAYED not in r.headers for r in responses) == 1
    assert stored_count(database, Issue) == 1
    assert stored_count(database, User) == 7  # the city's six, and the device's


async def test_a_new_device_sends_two_reports_at_the_same_moment(
    client: httpx.AsyncClient, database: Database, settings: Settings, city: City
) -> None:
    # Two different reports (two keys): both are created, by one device user.
    for _ in range(3):
        device = f"device-{uuid.uuid4()}"
        responses = await asyncio.gather(
            *(
                client.post(
                    ISSUES,
                    headers={"X-Device-Id": device, "Idempotency-Key": new_key()},
                    json=report_body(f"Pothole number {n}"),
                )
                for n in range(2)
            )
        )
        assert [r.status_code for r in responses] == [201, 201], [r.text for r in responses]
        reporters = {stored_issue(database, r.json()["id"]).reporter_id for r in responses}
        assert len(reporters) == 1
    assert stored_count(database, User) == 6 + 3


async def test_an_expired_key_can_be_used_again(
    client: httpx.AsyncClient, database: Database, settings: Settings, city: City
) -> None:
    headers = {**bearer(settings, city.reporter), "Idempotency-Key": new_key()}
    first = await client.post(ISSUES, headers=headers, json=report_body())
    assert first.status_code == 201, first.text
    with database.session(write=True) as session:
        expired = utcnow() - settings.idempotency_ttl - dt.timedelta(minutes=1)
        session.execute(update(IdempotencyRecord).values(created_at=expired))
        session.commit()

    again = await client.post(ISSUES, headers=headers, json=report_body())
    assert again.status_code == 201, again.text
    assert REPLAYED not in again.headers
    assert again.json()["id"] != first.json()["id"]
    assert stored_count(database, IdempotencyRecord) == 1


async def test_a_retried_claim_is_replayed_not_refused(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, city: City
) -> None:
    issue_id = report(db, database, city)
    key = {"Idempotency-Key": new_key()}
    first = await act(client, settings, city.agent, issue_id, "claim", headers=key)
    assert first.status_code == 200, first.text
    assert REPLAYED not in first.headers

    retry = await act(client, settings, city.agent, issue_id, "claim", headers=key)
    assert_same_answer(retry, first)
    assert retry.json()["status"] == "acknowledged"
    # Without the key, the same claim is a new request, and not allowed any more.
    again = await act(client, settings, city.agent, issue_id, "claim")
    assert again.status_code == 409, again.text

    assert [e.action for e in stored_events(database, issue_id)] == ["reported", "claimed"]
    assert stored_issue(database, issue_id).version == 2


async def test_claim_retries_at_the_same_moment_claim_once(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, city: City
) -> None:
    for _ in range(3):
        issue_id = report(db, database, city)
        key = {"Idempotency-Key": new_key()}
        responses = await asyncio.gather(
            *(act(client, settings, city.agent, issue_id, "claim", headers=key) for _ in range(4))
        )
        assert [r.status_code for r in responses] == [200] * 4, [r.text for r in responses]
        assert len({r.content for r in responses}) == 1
        assert sum(REPLAYED not in r.headers for r in responses) == 1
        assert [e.action for e in stored_events(database, issue_id)] == ["reported", "claimed"]


async def test_a_refused_step_is_not_replayed(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, city: City
) -> None:
    issue_id = report(db, database, city)
    key = {"Idempotency-Key": new_key()}
    # Not allowed yet: the answer is not stored, so the same step with the same key can succeed
    # once the issue has moved on.
    early = await act(client, settings, city.agent, issue_id, "start", headers=key)
    assert early.status_code == 409, early.text  # claim it first
    assert (await act(client, settings, city.agent, issue_id, "claim")).status_code == 200
    later = await act(client, settings, city.agent, issue_id, "start", headers=key)
    assert later.status_code == 200, later.text
    assert REPLAYED not in later.headers
    assert stored_issue(database, issue_id).status == "in_progress"
