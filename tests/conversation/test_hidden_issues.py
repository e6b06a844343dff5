"""An abusive issue hidden by moderation leaves every public surface (lists, reads, Open311,
exports, statistics) while its agencies and admins still see and work on it; no one joins in
on it (comments, flags, follows) until it is restored."""

from __future__ import annotations

import json

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import Comment, Follow, IssueEvent
from tests.conversation.helpers import DEVICE, comment, hide_issue, timeline, who
from tests.factories import bearer
from tests.lifecycle.helpers import City, act, problem_type, report


def _ids(listing: httpx.Response) -> list[str]:
    return [item["id"] for item in listing.json()["items"]]


async def test_a_hidden_issue_disappears_from_every_public_surface(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    kept = report(db, database, city)
    hidden = report(db, database, city)
    assert (await act(client, settings, city.agent, hidden, "claim")).status_code == 200
    response = await hide_issue(client, settings, city.agent, hidden)
    assert response.status_code == 200, response.text
    assert response.json() == {"issue": hidden, "hidden": True}

    assert _ids(await client.get("/api/v1/issues")) == [kept]
    assert _ids(await client.get("/api/v1/issues", params={"q": "street"})) == [kept]
    geo = await client.get("/api/v1/issues", headers={"Accept": "application/geo+json"})
    assert [f["id"] for f in geo.json()["features"]] == [kept]
    for path in ("", "/events", "/timeline", "/comments", "/timeframe"):
        for headers in ({}, DEVICE, who(settings, city.reporter), who(settings, city.east_agent)):
            read = await client.get(f"/api/v1/issues/{hidden}{path}", headers=headers)
            assert read.status_code == 404, (path, headers)
    # Same answer as for an issue that never was: nothing says it exists.
    never = await client.get("/api/v1/issues/ZZZZZZZZZZ")
    public = await client.get(f"/api/v1/issues/{hidden}")
    assert public.json()["title"] == never.json()["title"]
    assert public.json()["detail"] == never.json()["detail"].replace("ZZZZZZZZZZ", hidden)
    mine = await client.get("/api/v1/users/me/issues", headers=who(settings, city.reporter))
    assert hidden not in str(mine.json())

    requests = (await client.get("/open311/v2/requests.json")).json()
    assert [r["service_request_id"] for r in requests] == [kept]
    by_id = await client.get("/open311/v2/requests.json", params={"service_request_id": hidden})
    assert by_id.json() == []
    assert (await client.get(f"/open311/v2/requests/{hidden}.json")).status_code == 404

    export = await client.get("/api/v1/exports/issues.ndjson")
    assert [json.loads(line)["id"] for line in export.text.splitlines()] == [kept]
    counts = (await client.get("/api/v1/stats/counts/status")).json()["counts"]
    assert {c["key"]: c["count"] for c in counts} == {"open": 1}


async def test_its_agencies_and_admins_still_see_and_work_on_it(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    issue_id = report(db, database, city)
    assert (await act(client, settings, city.agent, issue_id, "claim")).status_code == 200
    assert (await hide_issue(client, settings, city.admin, issue_id)).status_code == 200
    for staff in (city.agent, city.rival, city.admin):
        read = await client.get(f"/api/v1/issues/{issue_id}", headers=who(settings, staff))
        assert read.status_code == 200
        assert read.json()["hidden"] is True
        steps = await timeline(client, who(settings, staff), issue_id)
        assert (steps[-1]["action"], steps[-1]["note"]) == ("hidden", "abusive text")
    queue = await client.get(
        f"/api/v1/agencies/{city.west.id}/queue", headers=who(settings, city.agent)
    )
    assert _ids(queue) == [issue_id]
    assert (await act(client, settings, city.agent, issue_id, "start")).status_code == 200
    # Restored, it is public again.
    assert (
        await hide_issue(client, settings, city.agent, issue_id, hidden=False)
    ).status_code == 200
    assert _ids(await client.get("/api/v1/issues")) == [issue_id]
    assert (await client.get(f"/api/v1/issues/{issue_id}")).json()["hidden"] is False
    actions = [e.action for e in db.scalars(select(IssueEvent).order_by(IssueEvent.id))]
    assert actions[-3:] == ["hidden", "started", "unhidden"]


async def test_no_one_joins_in_on_a_hidden_issue(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    issue_id = report(db, database, city)
    earlier = await comment(client, DEVICE, issue_id, body="before it was hidden")
    flags = f"/api/v1/comments/{earlier.json()['id']}/flags"
    assert (await act(client, settings, city.agent, issue_id, "claim")).status_code == 200
    assert (await hide_issue(client, settings, city.agent, issue_id)).status_code == 200
    follows_before = len(list(db.scalars(select(Follow))))
    # Those who cannot see it: it does not exist.
    for headers in (DEVICE, who(settings, city.stranger), who(settings, city.reporter)):
        assert (await comment(client, headers, issue_id, body="hello")).status_code == 404
        assert (await client.post(flags, headers=headers, json={})).status_code == 404
        follow = await client.post(f"/api/v1/issues/{issue_id}/follow", headers=headers)
        assert follow.status_code == 404
    # Staff who still see it: restore it first.
    for staff in (city.agent, city.admin):
        english = {**who(settings, staff), "Accept-Language": "en"}
        refused = await comment(client, english, issue_id, body="x", internal=True)
        assert refused.status_code == 409
        assert problem_type(refused) == "issue-hidden"
        assert "restore it first" in refused.json()["detail"]
        flagged = await client.post(flags, headers=who(settings, staff), json={})
        assert flagged.status_code == 409
        follow = await client.post(
            f"/api/v1/issues/{issue_id}/follow", headers=bearer(settings, staff)
        )
        assert follow.status_code == 409
    thai = await comment(
        client, {**who(settings, city.agent), "Accept-Language": "th"}, issue_id, body="x"
    )
    assert "ยกเลิกการซ่อน" in thai.json()["detail"]
    assert [c.body for c in db.scalars(select(Comment))] == ["before it was hidden"]
    assert len(list(db.scalars(select(Follow)))) == follows_before
    # Moderating its comments goes on.
    hide = await client.patch(
        f"/api/v1/comments/{earlier.json()['id']}",
        headers=who(settings, city.agent),
        json={"hidden": True, "reason": "spam"},
    )
    assert hide.status_code == 200


async def test_who_may_hide_an_issue_and_bad_requests(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    issue_id = report(db, database, city)
    early = await hide_issue(client, settings, city.agent, issue_id)
    assert early.status_code == 409
    assert problem_type(early) == "claim-first"
    assert (await hide_issue(client, settings, city.admin, issue_id)).status_code == 200
    assert (
        await hide_issue(client, settings, city.admin, issue_id, hidden=False)
    ).status_code == 200
    assert (await act(client, settings, city.agent, issue_id, "claim")).status_code == 200
    for user in (city.reporter, city.stranger, city.rival, city.east_agent):
        assert (await hide_issue(client, settings, user, issue_id)).status_code == 403, user
    path = f"/api/v1/issues/{issue_id}/moderation"
    admin = who(settings, city.admin)
    for body in ({"hidden": True}, {"hidden": True, "reason": " "}, {}, {"hidden": 3}):
        assert (await client.post(path, headers=admin, json=body)).status_code == 422, body
    assert (await client.post(path, json={"hidden": False})).status_code == 401
    missing = await client.post(
        "/api/v1/issues/NOSUCHISSUE/moderation", headers=admin, json={"hidden": False}
    )
    assert missing.status_code == 404
    # Hiding twice is one change.
    assert (await hide_issue(client, settings, city.agent, issue_id)).status_code == 200
    assert (await hide_issue(client, settings, city.agent, issue_id)).status_code == 200
    hidden_events = db.scalars(select(IssueEvent).where(IssueEvent.action == "hidden")).all()
    assert len(hidden_events) == 2  # once by the admin earlier, once now
