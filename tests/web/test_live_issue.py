"""The issue page's live feed: an open page hears of each new public step of its issue (and of
nothing else), so it can show it without a reload."""

from __future__ import annotations

import httpx
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from tests.lifecycle.helpers import stored_events
from tests.work.helpers import assign, build_office, claimed_issue, new_issue
from tests.work.sse import messages_of


async def test_an_issue_pages_feed_names_only_that_issues_public_steps(
    client: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    db: Session,
    database: Database,
    settings: Settings,
) -> None:
    office = build_office(db)
    ours = await claimed_issue(client, db, database, settings, office)
    # An internal step of ours, and another issue's report: neither is this page's to hear.
    assigned = await assign(client, settings, office.manager, ours, office.agent.id)
    assert assigned.status_code == 200
    new_issue(db, database, office)
    stream = await browser.get(
        f"/issues/{ours}/live",
        params={"last_event_id": "0"},
        headers={"accept": "text/event-stream"},
    )
    assert stream.status_code == 200
    assert stream.headers["content-type"].startswith("text/event-stream")
    public = [e for e in stored_events(database, ours) if e.is_public]
    assert [e.action.value for e in public] == ["reported", "claimed"]
    heard = messages_of(stream.text)
    # Each message names its step and nothing more: the page re-reads what it may show.
    assert [m.data for m in heard] == [{"id": e.id} for e in public]
    assert [m.id for m in heard] == [str(e.id) for e in public]


async def test_the_feed_of_an_unknown_issue_is_a_404(
    browser: httpx.AsyncClient, db: Session
) -> None:
    missing = await browser.get("/issues/NOSUCHID/live", headers={"accept": "text/event-stream"})
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
