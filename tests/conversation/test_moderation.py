"""Moderating the conversation: the handling agency and admins hide an abusive comment (the
public sees that one was hidden, not what it said) and restore it; anyone flags a comment once."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import CommentFlag, IssueEvent
from tests.conversation.helpers import DEVICE, OTHER_DEVICE, comment, timeline, who
from tests.factories import bearer
from tests.lifecycle.helpers import City, act, problem_type, report


async def _abusive(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> tuple[str, int]:
    issue_id = report(db, database, city)
    response = await comment(client, DEVICE, issue_id, body="You are all idiots")
    assert response.status_code == 201
    return issue_id, response.json()["id"]


async def moderate(
    client: httpx.AsyncClient, headers: dict[str, str], comment_id: int, **body: object
) -> httpx.Response:
    return await client.patch(f"/api/v1/comments/{comment_id}", headers=headers, json=body)


async def test_a_hidden_comment_is_a_placeholder_for_the_public_and_whole_for_staff(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    issue_id, comment_id = await _abusive(client, settings, database, db, city)
    assert (await act(client, settings, city.agent, issue_id, "claim")).status_code == 200
    hidden = await moderate(
        client, who(settings, city.agent), comment_id, hidden=True, reason="insults"
    )
    assert hidden.status_code == 200, hidden.text
    assert hidden.json()["hidden"] is True
    assert hidden.json()["hidden_reason"] == "insults"

    for headers in ({}, DEVICE, {**who(settings, city.reporter), "Accept-Language": "th"}):
        listed = (await client.get(f"/api/v1/issues/{issue_id}/comments", headers=headers)).json()
        assert listed[0]["body"] is None
        assert listed[0]["hidden"] is True
        assert listed[0]["hidden_reason"] is None
        assert listed[0]["notice"]
        assert "idiots" not in str(await timeline(client, headers, issue_id))
        assert "comment_hidden" not in [
            s["action"] for s in await timeline(client, headers, issue_id)
        ]
    thai = await client.get(
        f"/api/v1/issues/{issue_id}/comments", headers={"Accept-Language": "th"}
    )
    assert thai.json()[0]["notice"] == "ความคิดเห็นนี้ถูกซ่อนโดยผู้ดูแล"
    for staff in (city.agent, city.rival, city.admin):
        steps = await timeline(client, who(settings, staff), issue_id)
        assert steps[1]["comment"]["body"] == "You are all idiots"
        hiding = steps[-1]
        assert (hiding["action"], hiding["note"]) == ("comment_hidden", "insults")
        assert hiding["comment"]["id"] == comment_id

    restored = await moderate(client, who(settings, city.admin), comment_id, hidden=False)
    assert restored.json()["hidden"] is False
    listed = (await client.get(f"/api/v1/issues/{issue_id}/comments")).json()
    assert listed[0]["body"] == "You are all idiots"
    actions = [s["action"] for s in await timeline(client, who(settings, city.agent), issue_id)]
    assert actions[-2:] == ["comment_hidden", "comment_restored"]
    # Asking for the state it is in changes nothing and writes no event.
    again = await moderate(client, who(settings, city.admin), comment_id, hidden=False)
    assert again.status_code == 200
    assert (
        db.scalar(
            select(func.count())
            .select_from(IssueEvent)
            .where(IssueEvent.action == "comment_restored")
        )
        == 1
    )


async def test_who_may_hide_a_comment(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    issue_id, comment_id = await _abusive(client, settings, database, db, city)
    early = await moderate(client, who(settings, city.agent), comment_id, hidden=True, reason="x")
    assert early.status_code == 409
    assert problem_type(early) == "claim-first"
    assert (await act(client, settings, city.agent, issue_id, "claim")).status_code == 200
    for user in (city.reporter, city.stranger, city.rival, city.east_agent):
        refused = await moderate(client, who(settings, user), comment_id, hidden=True, reason="x")
        assert refused.status_code == 403, user
    assert (await moderate(client, DEVICE, comment_id, hidden=True, reason="x")).status_code == 403
    assert (await moderate(client, {}, comment_id, hidden=True, reason="x")).status_code == 401


async def test_bad_moderation_requests(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    issue_id, comment_id = await _abusive(client, settings, database, db, city)
    admin = who(settings, city.admin)
    for body in (
        {"hidden": True},
        {"hidden": True, "reason": ""},
        {"hidden": True, "reason": "x" * 2001},
        {"hidden": True, "reason": "a\x00b"},
        {"hidden": None, "reason": "x"},
        {"reason": "x"},
        {"hidden": "maybe", "reason": "x"},
        {"hidden": True, "reason": "x", "extra": 1},
    ):
        response = await moderate(client, admin, comment_id, **body)
        assert response.status_code == 422, (body, response.text)
    for missing in ("999999", "0", "abc"):
        response = await client.patch(
            f"/api/v1/comments/{missing}", headers=admin, json={"hidden": False}
        )
        assert response.status_code in (404, 422), missing
    listed = (await client.get(f"/api/v1/issues/{issue_id}/comments")).json()
    assert listed[0]["hidden"] is False


async def test_anyone_flags_a_comment_once_and_staff_see_the_count(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    issue_id, comment_id = await _abusive(client, settings, database, db, city)
    path = f"/api/v1/comments/{comment_id}/flags"
    first = await client.post(path, headers=OTHER_DEVICE, json={"reason": "insulting"})
    assert first.status_code == 201, first.text
    assert first.json() == {"comment": comment_id, "flagged": True}
    twice = await client.post(path, headers=OTHER_DEVICE, json={})
    assert twice.status_code == 409
    assert problem_type(twice) == "already-flagged"
    by_account = await client.post(path, headers=bearer(settings, city.stranger), json={})
    assert by_account.status_code == 201
    assert (await client.post(path, json={})).status_code == 401
    assert db.scalar(select(func.count()).select_from(CommentFlag)) == 2

    public = (await client.get(f"/api/v1/issues/{issue_id}/comments")).json()
    assert public[0]["flag_count"] is None
    for staff in (city.agent, city.rival, city.admin):
        listed = await client.get(
            f"/api/v1/issues/{issue_id}/comments", headers=who(settings, staff)
        )
        assert listed.json()[0]["flag_count"] == 2
        flags = (await client.get(path, headers=who(settings, staff))).json()
        assert [f["reason"] for f in flags] == ["insulting", None]
        assert [f["by"]["role"] for f in flags] == ["citizen", "citizen"]
        assert str(city.stranger.email) not in str(flags)
    for outsider in (city.reporter, city.east_agent):
        assert (await client.get(path, headers=who(settings, outsider))).status_code == 403
    assert (await client.get(path)).status_code == 401


async def test_bad_flags(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    issue_id, comment_id = await _abusive(client, settings, database, db, city)
    path = f"/api/v1/comments/{comment_id}/flags"
    for body in ({"reason": ""}, {"reason": "x" * 501}, {"reason": "\x1b[31m"}, {"x": 1}):
        assert (await client.post(path, headers=DEVICE, json=body)).status_code == 422, body
    assert (
        await client.post("/api/v1/comments/999999/flags", headers=DEVICE, json={})
    ).status_code == 404
    # Notes are not public: the public cannot find them, staff are told there is nothing to flag.
    assert (await act(client, settings, city.agent, issue_id, "claim")).status_code == 200
    note = await comment(client, who(settings, city.agent), issue_id, body="n", internal=True)
    note_flags = f"/api/v1/comments/{note.json()['id']}/flags"
    assert (await client.post(note_flags, headers=DEVICE, json={})).status_code == 404
    staff = await client.post(note_flags, headers=who(settings, city.agent), json={})
    assert staff.status_code == 409
    assert db.scalar(select(func.count()).select_from(CommentFlag)) == 0
