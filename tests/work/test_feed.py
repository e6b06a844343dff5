"""The live feed: who sees which events, where a stream starts, and the resume point.
(Live streaming, reconnection and slow clients against a real server: test_feed_server.py.)"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.services import feed
from tests.factories import IN_EAST, bearer
from tests.lifecycle.helpers import act, problem_type, stored_events
from tests.work.helpers import Office, assign, claimed_issue, new_issue
from tests.work.sse import messages_of

URL = "/api/v1/feed"


async def read_feed(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    params: dict[str, str] | None = None,
) -> list[tuple[str | None, str, str]]:
    """(id line, action, issue id) of each message of one stream (it ends after
    feed_max_seconds in tests)."""
    response = await client.get(URL, headers=headers, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    return [(m.id, m.data["action"], m.data["issue"]["id"]) for m in messages_of(response.text)]


async def test_staff_see_their_agencys_issues_and_admins_see_everything(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, office: Office
) -> None:
    ours = await claimed_issue(client, db, database, settings, office)
    await assign(client, settings, office.manager, ours, office.agent.id)
    routed = new_issue(db, database, office)  # routed to west and metro, claimed by no one
    elsewhere = new_issue(db, database, office, at=IN_EAST)  # east's and metro's
    everything = {"last_event_id": "0"}

    west = await read_feed(client, bearer(settings, office.agent), everything)
    assert [(action, issue) for _, action, issue in west] == [
        ("reported", ours),
        ("claimed", ours),
        ("assigned", ours),  # internal steps too: the agency's own dashboard
        ("reported", routed),
    ]
    # Each message's id is its event's: what a reconnecting browser sends back.
    assert [int(i or 0) for i, _, _ in west] == [
        e.id for i in (ours, routed) for e in stored_events(database, i)
    ]
    east = await read_feed(client, bearer(settings, office.east_manager), everything)
    assert [(action, issue) for _, action, issue in east] == [("reported", elsewhere)]
    admin = await read_feed(client, bearer(settings, office.admin), everything)
    assert {issue for _, _, issue in admin} == {ours, routed, elsewhere}
    assert len(admin) == 5


async def test_a_transfer_shows_in_the_feeds_of_both_agencies(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, office: Office
) -> None:
    issue_id = await claimed_issue(client, db, database, settings, office)
    moved = await act(
        client, settings, office.agent, issue_id, "transfer", to_agency=office.east.id, note="East"
    )
    assert moved.status_code == 200
    transfer = stored_events(database, issue_id)[-1].id
    after = {"last_event_id": str(transfer - 1)}
    for user in (office.agent, office.east_manager):
        assert await read_feed(client, bearer(settings, user), after) == [
            (str(transfer), "transferred", issue_id)
        ]


async def test_a_stream_starts_now_or_after_the_last_event_id_the_header_first(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, office: Office
) -> None:
    issue_id = await claimed_issue(client, db, database, settings, office)
    reported, claimed = (e.id for e in stored_events(database, issue_id))
    agent = bearer(settings, office.agent)

    # Without a position the stream starts with what happens next: nothing here.
    assert await read_feed(client, agent) == []
    assert await read_feed(client, agent, {"last_event_id": str(reported)}) == [
        (str(claimed), "claimed", issue_id)
    ]
    # A reconnecting browser sends the header with the page's original URL: the header wins.
    assert (
        await read_feed(client, {**agent, "Last-Event-ID": str(claimed)}, {"last_event_id": "0"})
        == []
    )


@pytest.mark.parametrize(
    ("headers", "params", "location"),
    [
        ({"Last-Event-ID": "abc"}, {}, "header.Last-Event-ID"),
        ({"Last-Event-ID": "-5"}, {}, "header.Last-Event-ID"),
        ({"Last-Event-ID": "9" * 30}, {}, "header.Last-Event-ID"),
        ({}, {"last_event_id": "-1"}, "query.last_event_id"),
        ({}, {"last_event_id": "x"}, "query.last_event_id"),
    ],
)
async def test_a_bad_last_event_id_is_refused_before_streaming(
    client: httpx.AsyncClient,
    settings: Settings,
    office: Office,
    headers: dict[str, str],
    params: dict[str, str],
    location: str,
) -> None:
    response = await client.get(
        URL, headers={**bearer(settings, office.agent), **headers}, params=params
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["location"] for e in response.json()["errors"]] == [location]


async def test_only_staff_and_admins_have_a_feed(
    client: httpx.AsyncClient, settings: Settings, office: Office
) -> None:
    assert (await client.get(URL)).status_code == 401
    citizen = await client.get(URL, headers=bearer(settings, office.reporter))
    assert citizen.status_code == 403
    assert problem_type(citizen) == "forbidden"


def test_an_event_committed_late_is_sent_without_moving_the_resume_point() -> None:
    """Ids are taken when a change is written, not when it commits: 11 can be read before 10."""
    cursor = feed.Cursor(last_id=9, late_seconds=30)
    assert cursor.advance(11, now=0.0) is True
    assert cursor.pending == {10: 30.0}
    # 10 commits later: sent (without an id), and no longer waited for.
    assert cursor.advance(10, now=5.0) is False
    assert cursor.pending == {}
    # An id that never commits (a rolled-back change) is given up after late_seconds.
    cursor.advance(13, now=6.0)
    cursor.expire(now=35.0)
    assert cursor.pending == {12: 36.0}
    cursor.expire(now=36.0)
    assert (cursor.pending, cursor.last_id) == ({}, 13)


def test_the_ids_a_stream_waits_for_are_bounded() -> None:
    cursor = feed.Cursor(last_id=0, late_seconds=30)
    cursor.advance(10 * feed.MAX_PENDING, now=0.0)
    assert len(cursor.pending) == feed.MAX_PENDING
    assert min(cursor.pending) == 9 * feed.MAX_PENDING
