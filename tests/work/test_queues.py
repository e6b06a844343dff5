"""Work queues: per agency and per staff member, most at risk first, filtered by category,
district, status, flag and assignee, one keyset page at a time."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import Flag, issue_flag
from app.models.base import utcnow
from tests.factories import EAST_DISTRICT, IN_EAST, WEST_DISTRICT, bearer, make_district
from tests.lifecycle.helpers import act, problem_type, stored_issue
from tests.work.helpers import Office, assign, claimed_issue, new_issue, set_issue

HOUR = dt.timedelta(hours=1)


async def ids(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], **params: str
) -> list[str]:
    response = await client.get(url, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def test_the_queue_puts_late_issues_first_then_the_soonest_due_step(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, office: Office
) -> None:
    now = utcnow()
    soon_ack = new_issue(db, database, office)
    very_late = new_issue(db, database, office)
    resolving_soon = await claimed_issue(client, db, database, settings, office)
    done = await claimed_issue(client, db, database, settings, office)
    late = new_issue(db, database, office)
    resolving_later = await claimed_issue(client, db, database, settings, office)
    set_issue(database, soon_ack, acknowledge_due_at=now + 5 * HOUR)
    set_issue(database, very_late, acknowledge_due_at=now - 2 * HOUR)
    set_issue(database, late, acknowledge_due_at=now - 1 * HOUR)
    # Once acknowledged, the step is resolving: its acknowledgement deadline no longer counts.
    set_issue(
        database, resolving_soon, acknowledge_due_at=now - 9 * HOUR, resolve_due_at=now + HOUR
    )
    set_issue(database, resolving_later, resolve_due_at=now + 48 * HOUR)
    resolved = await act(client, settings, office.agent, done, "resolve", resolution="fixed")
    assert resolved.status_code == 200
    set_issue(database, done, resolve_due_at=now - 100 * HOUR)  # done: last, however late
    expected = [very_late, late, resolving_soon, soon_ack, resolving_later, done]
    url = f"/api/v1/agencies/{office.west.id}/queue"
    headers = bearer(settings, office.manager)

    assert await ids(client, url, headers) == expected

    # The same order one keyset page at a time.
    walked: list[str] = []
    params: dict[str, str] = {"limit": "2"}
    while True:
        page = (await client.get(url, params=params, headers=headers)).json()
        walked += [item["id"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        params = {"limit": "2", "cursor": page["next_cursor"]}
    assert walked == expected
    # A cursor belongs to its query: with other filters it is refused, not misread.
    first = (await client.get(url, params={"limit": "2"}, headers=headers)).json()
    other = await client.get(
        url,
        params={"limit": "2", "status": "open", "cursor": first["next_cursor"]},
        headers=headers,
    )
    assert other.status_code == 400
    assert problem_type(other) == "invalid-cursor"
    # Asked for, the list's own order still works.
    newest = sorted(expected, key=lambda i: stored_issue(database, i).created_at, reverse=True)
    assert await ids(client, url, headers, sort="newest") == newest


async def test_the_queue_filters_by_district_flag_status_and_assignee(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, office: Office
) -> None:
    make_district(db, "west-side", WEST_DISTRICT)
    make_district(db, "east-side", EAST_DISTRICT)
    mine = await claimed_issue(client, db, database, settings, office)
    theirs = await claimed_issue(client, db, database, settings, office)
    nobodys = await claimed_issue(client, db, database, settings, office)
    unclaimed = new_issue(db, database, office)
    in_east = new_issue(db, database, office, at=IN_EAST)  # routed to metro only
    await assign(client, settings, office.manager, mine, office.agent.id)
    await assign(client, settings, office.manager, theirs, office.colleague.id)
    with database.session(write=True) as session, session.begin():
        session.execute(
            insert(issue_flag),
            [
                {"issue_id": stored_issue(database, mine).id, "flag": Flag.accessibility},
                {"issue_id": stored_issue(database, unclaimed).id, "flag": Flag.safety_hazard},
            ],
        )
    west = f"/api/v1/agencies/{office.west.id}/queue"
    agent = bearer(settings, office.agent)

    assert set(await ids(client, west, agent)) == {mine, theirs, nobodys, unclaimed}
    assert await ids(client, west, agent, assignee="me") == [mine]
    assert set(await ids(client, west, agent, assignee="none")) == {nobodys, unclaimed}
    assert set(await ids(client, west, agent, assignee=f"me,{office.colleague.id}")) == {
        mine,
        theirs,
    }
    assert await ids(client, west, agent, flag="accessibility") == [mine]
    assert set(await ids(client, west, agent, flag="accessibility,safety_hazard")) == {
        mine,
        unclaimed,
    }
    assert await ids(client, west, agent, status="open") == [unclaimed]
    assert await ids(client, west, agent, district="east-side") == []
    metro = f"/api/v1/agencies/{office.metro.id}/queue"
    rival = bearer(settings, office.rival)
    assert set(await ids(client, metro, rival)) == {unclaimed, in_east}
    assert await ids(client, metro, rival, district="east-side") == [in_east]
    assert set(await ids(client, metro, rival, district="west-side,east-side")) == {
        unclaimed,
        in_east,
    }


@pytest.mark.parametrize(
    ("params", "location"),
    [
        ({"district": "atlantis"}, "query.district"),
        ({"flag": "urgent"}, "query.flag"),
        ({"assignee": "someone"}, "query.assignee"),
        ({"assignee": "0"}, "query.assignee"),
        ({"sort": "soonest"}, "query.sort"),
    ],
)
async def test_unknown_filter_values_are_named_in_the_problem(
    client: httpx.AsyncClient,
    settings: Settings,
    office: Office,
    params: dict[str, str],
    location: str,
) -> None:
    for url in (f"/api/v1/agencies/{office.west.id}/queue", "/api/v1/users/me/queue"):
        response = await client.get(url, params=params, headers=bearer(settings, office.agent))
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert [e["location"] for e in response.json()["errors"]] == [location]


async def test_my_queue_holds_mine_and_my_agencys_unassigned_issues(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, office: Office
) -> None:
    mine = await claimed_issue(client, db, database, settings, office)
    theirs = await claimed_issue(client, db, database, settings, office)
    nobodys = await claimed_issue(client, db, database, settings, office)
    unclaimed = new_issue(db, database, office)
    await assign(client, settings, office.manager, mine, office.agent.id)
    await assign(client, settings, office.manager, theirs, office.colleague.id)
    url = "/api/v1/users/me/queue"

    assert set(await ids(client, url, bearer(settings, office.agent))) == {
        mine,
        nobodys,
        unclaimed,
    }
    assert await ids(client, url, bearer(settings, office.agent), assignee="me") == [mine]
    assert set(await ids(client, url, bearer(settings, office.colleague))) == {
        theirs,
        nobodys,
        unclaimed,
    }
    # Metro was routed the unclaimed issue too; the ones west claimed are not metro's.
    assert await ids(client, url, bearer(settings, office.rival)) == [unclaimed]
    for outsider in (office.admin, office.reporter):
        response = await client.get(url, headers=bearer(settings, outsider))
        assert response.status_code == 403
        assert problem_type(response) == "forbidden"
    assert (await client.get(url)).status_code == 401
