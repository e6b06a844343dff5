"""Staff merge a duplicate into the issue that reports the same problem: the duplicate is resolved
as `duplicate` with a link both ways, its reporter, followers and supporters move over (no one
counted twice) and are told. Refusals change nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import Follow, Issue, IssueEvent, Role, Support, User
from app.services.notifications.templates import Links, render
from tests.factories import bearer, if_match, make_issue, make_user
from tests.lifecycle.helpers import (
    City,
    act,
    drive,
    problem_type,
    report,
    stored_events,
    stored_issue,
)
from tests.notifications.helpers import outbox

ENGLISH = {"Accept-Language": "en"}


def device(n: int) -> dict[str, str]:
    return {"X-Device-Id": f"a-phone-with-a-long-secret-id-{n:04d}"}


def other_report(db: Session, database: Database, city: City, reporter: User) -> str:
    db.commit()
    return make_issue(
        db, database.spatial, reporter=reporter, category=city.category, title="Same pothole"
    ).public_id


async def merge(
    client: httpx.AsyncClient,
    settings: Settings,
    user: User,
    issue_id: str,
    headers: dict[str, str] | None = None,
    **body: Any,
) -> httpx.Response:
    sent = {**bearer(settings, user), **ENGLISH, **(headers or {})}
    if user.role is not Role.citizen and "If-Match" not in sent:
        sent = await if_match(client, issue_id, sent)
    return await client.post(f"/api/v1/issues/{issue_id}/merge", headers=sent, json=body)


def people(database: Database, model: type[Follow] | type[Support], issue_id: str) -> set[int]:
    with database.session(write=False) as session:
        return set(
            session.scalars(
                select(model.user_id)
                .join(Issue, Issue.id == model.issue_id)
                .where(Issue.public_id == issue_id)
            )
        )


async def test_merging_resolves_the_duplicate_links_both_ways_and_moves_everyone_over(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    canonical = report(db, database, city)
    second_reporter = make_user(db)
    duplicate = other_report(db, database, city, second_reporter)
    both, only_duplicate, follower = make_user(db), make_user(db), make_user(db)
    for user, issue_ids in (
        (both, [canonical, duplicate]),
        (only_duplicate, [duplicate]),
        (city.reporter, [duplicate]),  # the canonical issue's own reporter, as a "me too"
    ):
        for issue_id in issue_ids:
            response = await client.post(
                f"/api/v1/issues/{issue_id}/support", headers=bearer(settings, user)
            )
            assert response.status_code == 200, response.text
    await client.post(f"/api/v1/issues/{duplicate}/follow", headers=bearer(settings, follower))
    await drive(client, settings, city.agent, duplicate, "acknowledged")
    canonical_followers_before = people(database, Follow, canonical)
    before = len(outbox(database))

    response = await merge(
        client, settings, city.agent, duplicate, into=canonical, note="Same hole, same day."
    )

    assert response.status_code == 200, response.text
    merged = response.json()
    assert (merged["status"], merged["resolution"], merged["duplicate_of"]) == (
        "resolved",
        "duplicate",
        canonical,
    )
    shown = (await client.get(f"/api/v1/issues/{canonical}")).json()
    assert shown["duplicates"] == [duplicate]
    assert shown["status"] == "open"
    # Supporters: `both` once, `only_duplicate`, and the duplicate's reporter; the canonical
    # issue's reporter is not their own supporter.
    assert people(database, Support, canonical) == {both.id, only_duplicate.id, second_reporter.id}
    assert shown["supporter_count"] == 3
    assert people(database, Follow, canonical) == {
        city.reporter.id,
        both.id,
        only_duplicate.id,
        second_reporter.id,
        follower.id,
    }
    (merged_event,) = [e for e in stored_events(database, duplicate) if e.action == "merged"]
    (merged_in,) = [e for e in stored_events(database, canonical) if e.action == "merged_in"]
    assert merged_event.note == "Same hole, same day."
    assert merged_event.resolution == "duplicate"
    assert merged_event.related_issue_id == stored_issue(database, canonical).id
    assert merged_in.related_issue_id == stored_issue(database, duplicate).id
    timeline = (await client.get(f"/api/v1/issues/{duplicate}/events")).json()
    assert timeline[-1]["action"] == "merged"

    rows = outbox(database)[before:]
    told_of_merge = {r.recipient_user_id for r in rows if r.event_id == merged_event.id}
    told_of_merge_in = {r.recipient_user_id for r in rows if r.event_id == merged_in.id}
    # Everyone who followed the duplicate hears once, from the duplicate; the canonical issue's
    # earlier followers hear that a report was merged in.
    assert told_of_merge == {
        second_reporter.id,
        both.id,
        only_duplicate.id,
        follower.id,
        city.reporter.id,
    }
    assert told_of_merge_in == canonical_followers_before
    message = next(r for r in rows if r.event_id == merged_event.id)
    for language, words in (("en", "merged into that issue"), ("th", "รวมเข้ากับเรื่องนั้น")):
        text = render(
            template=message.template,
            language=language,
            payload=message.payload,
            links=Links(issue="https://example.org/issue"),
            timezone="Asia/Bangkok",
            auto_close_after=dt.timedelta(days=7),
        )
        assert canonical in text.headline
        assert words in text.headline


async def test_an_admin_merges_an_issue_no_agency_has_claimed(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    canonical = report(db, database, city)
    duplicate = other_report(db, database, city, make_user(db))
    response = await merge(client, settings, city.admin, duplicate, into=canonical)
    assert response.status_code == 200, response.text
    assert response.json()["duplicate_of"] == canonical


async def test_duplicates_merged_earlier_follow_their_issue_into_the_canonical_one(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    canonical = report(db, database, city)
    middle = other_report(db, database, city, make_user(db))
    first = other_report(db, database, city, make_user(db))
    assert (await merge(client, settings, city.admin, first, into=middle)).status_code == 200
    assert (await merge(client, settings, city.admin, middle, into=canonical)).status_code == 200
    assert (await client.get(f"/api/v1/issues/{canonical}")).json()["duplicates"] == [
        middle,
        first,
    ]
    assert stored_issue(database, first).duplicate_of_id == stored_issue(database, canonical).id


def snapshot(database: Database, *issue_ids: str) -> list[Any]:
    """Everything a refused merge must leave as it was."""
    with database.session(write=False) as session:
        issues = session.scalars(
            select(Issue).where(Issue.public_id.in_(issue_ids)).order_by(Issue.id)
        ).all()
        ids = [i.id for i in issues]
        return [
            [(i.status, i.resolution, i.version, i.duplicate_of_id) for i in issues],
            session.scalars(select(IssueEvent.id).where(IssueEvent.issue_id.in_(ids))).all(),
            session.execute(select(Follow.issue_id, Follow.user_id).order_by(Follow.id)).all(),
            session.execute(select(Support.issue_id, Support.user_id).order_by(Support.id)).all(),
        ]


async def test_refusals_of_who_may_merge(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    canonical = report(db, database, city)
    duplicate = other_report(db, database, city, make_user(db))
    before = snapshot(database, canonical, duplicate)
    # Routed to the west agency, not yet claimed: claim it first.
    early = await merge(client, settings, city.agent, duplicate, into=canonical)
    assert (early.status_code, problem_type(early)) == (409, "claim-first")
    for user in (city.reporter, city.stranger, city.east_agent):
        response = await merge(client, settings, user, duplicate, into=canonical)
        assert response.status_code == 403, response.text
    await drive(client, settings, city.agent, duplicate, "acknowledged")
    claimed = snapshot(database, canonical, duplicate)
    rival = await merge(client, settings, city.rival, duplicate, into=canonical)
    assert rival.status_code == 403  # the other candidate agency, once west claimed it
    assert snapshot(database, canonical, duplicate) == claimed != before
    assert (
        await client.post(f"/api/v1/issues/{duplicate}/merge", json={"into": canonical})
    ).status_code == 401


@pytest.mark.parametrize(
    ("into", "code", "words"),
    [("itself", "same_issue", "into itself"), ("NOSUCHISSUE", "unknown_issue", "No issue")],
)
async def test_merging_into_itself_or_an_unknown_issue_names_the_field(
    client: httpx.AsyncClient,
    settings: Settings,
    database: Database,
    db: Session,
    city: City,
    into: str,
    code: str,
    words: str,
) -> None:
    duplicate = report(db, database, city)
    target = duplicate if into == "itself" else into
    before = snapshot(database, duplicate)
    response = await merge(client, settings, city.admin, duplicate, into=target)
    assert response.status_code == 422, response.text
    assert words in response.json()["detail"]
    assert [(e["location"], e["code"]) for e in response.json()["errors"]] == [("body.into", code)]
    assert snapshot(database, duplicate) == before


@pytest.mark.parametrize("status", ["resolved", "closed"])
async def test_the_target_must_still_be_open(
    client: httpx.AsyncClient,
    settings: Settings,
    database: Database,
    db: Session,
    city: City,
    status: str,
) -> None:
    canonical = report(db, database, city)
    await drive(client, settings, city.agent, canonical, status)
    duplicate = other_report(db, database, city, make_user(db))
    before = snapshot(database, canonical, duplicate)
    response = await merge(client, settings, city.admin, duplicate, into=canonical)
    assert (response.status_code, problem_type(response)) == (409, "issue-not-open")
    assert "still open" in response.json()["detail"]
    assert snapshot(database, canonical, duplicate) == before


async def test_a_target_merged_elsewhere_points_to_its_canonical_issue(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    canonical = report(db, database, city)
    merged = other_report(db, database, city, make_user(db))
    assert (await merge(client, settings, city.admin, merged, into=canonical)).status_code == 200
    duplicate = other_report(db, database, city, make_user(db))
    before = snapshot(database, canonical, merged, duplicate)
    response = await merge(client, settings, city.admin, duplicate, into=merged)
    assert (response.status_code, problem_type(response)) == (409, "issue-not-open")
    assert f"merge into {canonical} instead" in response.json()["detail"]
    assert snapshot(database, canonical, merged, duplicate) == before
    # And merging the merged one again says where it went.
    again = await merge(client, settings, city.admin, merged, into=duplicate)
    assert (again.status_code, problem_type(again)) == (409, "issue-not-open")
    assert f"already merged into issue {canonical}" in again.json()["detail"]


async def test_a_duplicate_already_resolved_cannot_be_merged(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    canonical = report(db, database, city)
    duplicate = other_report(db, database, city, make_user(db))
    await drive(client, settings, city.agent, duplicate, "resolved")
    before = snapshot(database, canonical, duplicate)
    response = await merge(client, settings, city.agent, duplicate, into=canonical)
    assert (response.status_code, problem_type(response)) == (409, "issue-not-open")
    assert snapshot(database, canonical, duplicate) == before


async def test_a_stale_version_or_a_malformed_body_changes_nothing(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    canonical = report(db, database, city)
    duplicate = other_report(db, database, city, make_user(db))
    before = snapshot(database, canonical, duplicate)
    stale = await merge(
        client, settings, city.admin, duplicate, headers={"If-Match": '"7"'}, into=canonical
    )
    assert stale.status_code == 412
    for body in ({}, {"into": canonical, "extra": 1}, {"into": ""}, {"into": "X" * 17}):
        response = await merge(client, settings, city.admin, duplicate, **body)
        assert response.status_code == 422, body
    assert snapshot(database, canonical, duplicate) == before


@pytest.mark.parametrize(("claimed", "back_to"), [(True, "acknowledged"), (False, "open")])
async def test_the_reporter_of_a_merged_duplicate_may_reopen_it_as_its_own_issue(
    client: httpx.AsyncClient,
    settings: Settings,
    database: Database,
    db: Session,
    city: City,
    claimed: bool,
    back_to: str,
) -> None:
    canonical = report(db, database, city)
    second_reporter = make_user(db)
    duplicate = other_report(db, database, city, second_reporter)
    if claimed:
        await drive(client, settings, city.agent, duplicate, "acknowledged")
    assert (await merge(client, settings, city.admin, duplicate, into=canonical)).is_success

    response = await act(
        client, settings, second_reporter, duplicate, "reopen", note="Mine is across the road."
    )

    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["duplicate_of"]) == (back_to, None)
    assert (await client.get(f"/api/v1/issues/{canonical}")).json()["duplicates"] == []
