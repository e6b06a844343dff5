"""Two people acting on one issue at the same moment: exactly one wins, the other is told, and
the issue's version (its ETag) protects every change."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import Role
from tests.factories import bearer, make_user
from tests.lifecycle.helpers import (
    City,
    act,
    drive,
    event_count,
    problem_type,
    report,
    stored_events,
    stored_issue,
)

# Races are not forced, so run each a few times; every round must end the same way.
ROUNDS = 5


@pytest.mark.parametrize("with_if_match", [False, True], ids=["any-version", "if-match"])
async def test_two_candidates_claim_at_the_same_moment(
    with_if_match: bool,
    client: httpx.AsyncClient,
    db: Session,
    database: Database,
    settings: Settings,
    city: City,
) -> None:
    claimants = {city.agent.id: city.west.id, city.rival.id: city.metro.id}
    for _ in range(ROUNDS):
        issue_id = report(db, database, city)
        headers = {"If-Match": '"1"' if with_if_match else "*"}
        first, second = await asyncio.gather(
            act(client, settings, city.agent, issue_id, "claim", headers=headers),
            act(client, settings, city.rival, issue_id, "claim", headers=headers),
        )
        assert sorted([first.status_code, second.status_code]) == [200, 409], (
            first.text,
            second.text,
        )
        winner, loser = (first, second) if first.status_code == 200 else (second, first)
        # Told exactly what a late claim is told, on either database.
        assert problem_type(loser) == "already-claimed", loser.text
        assert loser.json()["current_status"] == "acknowledged"
        assert loser.json()["allowed_actions"] == []
        winning_agency = winner.json()["agency"]["id"]
        assert winning_agency in (city.west.id, city.metro.id)

        issue = stored_issue(database, issue_id)
        assert (issue.status, issue.agency_id, issue.version) == ("acknowledged", winning_agency, 2)
        events = stored_events(database, issue_id)
        assert [e.action for e in events] == ["reported", "claimed"]
        assert events[-1].actor_id is not None
        assert claimants[events[-1].actor_id] == winning_agency
        assert events[-1].to_agency_id == winning_agency


async def test_a_late_claim_is_told_who_was_first(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, city: City
) -> None:
    issue_id = report(db, database, city)
    assert (await act(client, settings, city.agent, issue_id, "claim")).status_code == 200
    late = await act(client, settings, city.rival, issue_id, "claim")
    assert late.status_code == 409, late.text
    assert problem_type(late) == "already-claimed"
    assert late.json()["current_status"] == "acknowledged"
    assert late.json()["allowed_actions"] == []
    assert event_count(database, issue_id) == 2


async def test_concurrent_edits_with_the_same_if_match(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, city: City
) -> None:
    for _ in range(ROUNDS):
        issue_id = report(db, database, city)
        url = f"/api/v1/issues/{issue_id}"
        etag = (await client.get(url)).headers["etag"]
        headers = {**bearer(settings, city.reporter), "If-Match": etag}
        titles = ("Pothole near the school", "Pothole near the temple")
        responses = await asyncio.gather(
            *(client.patch(url, headers=headers, json={"title": title}) for title in titles)
        )
        codes = sorted(r.status_code for r in responses)
        assert codes[0] == 200, [r.text for r in responses]
        assert codes[1] in (409, 412), [r.text for r in responses]
        winner = next(r for r in responses if r.status_code == 200)
        loser = next(r for r in responses if r.status_code != 200)
        assert problem_type(loser) in {"stale-version", "concurrent-update"}

        issue = stored_issue(database, issue_id)
        assert issue.title == winner.json()["title"]
        assert issue.version == 2
        assert winner.headers["etag"] == '"2"'
        assert [e.action for e in stored_events(database, issue_id)] == ["reported", "edited"]


async def test_concurrent_steps_with_the_same_if_match(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, city: City
) -> None:
    colleague = make_user(db, Role.manager, agency=city.west)
    for _ in range(ROUNDS):
        issue_id = report(db, database, city)
        await drive(client, settings, city.agent, issue_id, "acknowledged")
        headers = {"If-Match": '"2"'}
        started, resolved = await asyncio.gather(
            act(client, settings, city.agent, issue_id, "start", headers=headers),
            act(
                client,
                settings,
                colleague,
                issue_id,
                "resolve",
                resolution="fixed",
                headers=headers,
            ),
        )
        responses = (started, resolved)
        assert sorted(r.status_code for r in responses)[0] == 200, [r.text for r in responses]
        winner = started if started.status_code == 200 else resolved
        loser = resolved if winner is started else started
        # Stale version, not allowed from the winner's status, or lost the race in the database.
        assert loser.status_code in (409, 412), loser.text
        assert problem_type(loser) in {"stale-version", "invalid-transition", "concurrent-update"}

        issue = stored_issue(database, issue_id)
        assert issue.status == winner.json()["status"]
        assert issue.version == 3
        assert event_count(database, issue_id) == 3


async def test_etag_and_conditional_requests(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, city: City
) -> None:
    issue_id = report(db, database, city)
    url = f"/api/v1/issues/{issue_id}"

    read = await client.get(url)
    assert read.status_code == 200
    assert read.headers["etag"] == '"1"'
    assert read.json()["version"] == 1

    unchanged = await client.get(url, headers={"If-None-Match": '"1"'})
    assert unchanged.status_code == 304
    assert unchanged.headers["etag"] == '"1"'
    assert unchanged.content == b""

    owner = bearer(settings, city.reporter)
    edited = await client.patch(
        url, headers={**owner, "If-Match": '"1"'}, json={"title": "Pothole, now bigger"}
    )
    assert edited.status_code == 200, edited.text
    assert edited.headers["etag"] == '"2"'

    changed = await client.get(url, headers={"If-None-Match": '"1"'})
    assert changed.status_code == 200
    assert changed.headers["etag"] == '"2"'
    assert changed.json()["title"] == "Pothole, now bigger"

    # A change based on the old version is refused, and changes nothing.
    stale = await client.patch(
        url, headers={**owner, "If-Match": '"1"'}, json={"title": "Pothole, stale edit"}
    )
    assert stale.status_code == 412, stale.text
    assert problem_type(stale) == "stale-version"
    assert stale.json()["current_version"] == 2
    stale_step = await act(
        client, settings, city.agent, issue_id, "claim", headers={"If-Match": '"1"'}
    )
    assert stale_step.status_code == 412, stale_step.text
    issue = stored_issue(database, issue_id)
    assert (issue.title, issue.version, issue.status) == ("Pothole, now bigger", 2, "open")
    assert event_count(database, issue_id) == 2

    malformed = await client.patch(url, headers={**owner, "If-Match": "2"}, json={"title": "Hole"})
    assert malformed.status_code == 400, malformed.text
    assert stored_issue(database, issue_id).version == 2

    # `*` and no header at all mean "whatever the version".
    for headers in ({"If-Match": "*"}, {}):
        title = f"Pothole {len(headers)}"
        anyway = await client.patch(url, headers={**owner, **headers}, json={"title": title})
        assert anyway.status_code == 200, anyway.text
    assert stored_issue(database, issue_id).version == 4
