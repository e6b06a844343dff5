"""Public comments from citizens (account or device) and staff, internal notes for the handling
agency, all in the issue's timeline in order with its status events."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import Comment, IssueEvent, Language, User
from tests.conversation.helpers import DEVICE, comment, timeline, who
from tests.factories import bearer
from tests.lifecycle.helpers import City, act, problem_type, report
from tests.notifications.helpers import delivered_mail, outbox


async def test_citizens_devices_and_staff_comment_and_each_comment_is_a_timeline_event(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    issue_id = report(db, database, city)
    by_account = await comment(client, who(settings, city.stranger), issue_id, body="Same here")
    assert by_account.status_code == 201, by_account.text
    assert by_account.json()["kind"] == "comment"
    assert by_account.json()["mine"] is True
    by_device = await comment(client, DEVICE, issue_id, body="  Still dark tonight  ")
    assert by_device.status_code == 201
    assert by_device.json()["body"] == "Still dark tonight"
    assert (await act(client, settings, city.agent, issue_id, "claim")).status_code == 200
    by_staff = await comment(client, who(settings, city.agent), issue_id, body="On our list")
    assert by_staff.status_code == 201

    steps = await timeline(client, {}, issue_id)
    assert [s["action"] for s in steps] == [
        "reported",
        "commented",
        "commented",
        "claimed",
        "commented",
    ]
    bodies = [s["comment"]["body"] for s in steps if s["comment"]]
    assert bodies == ["Same here", "Still dark tonight", "On our list"]
    staff_comment = steps[-1]["comment"]
    # The public sees the role and agency, never a name or an e-mail, as on the events.
    assert staff_comment["author"] == {
        "role": "agent",
        "role_label": "Agency staff",
        "agency": {
            "id": city.west.id,
            "slug": "west",
            "name_th": city.west.name_th,
            "name_en": city.west.name_en,
            "name": city.west.name_en,
        },
        "name": None,
    }
    assert str(city.agent.email) not in str(steps)
    assert staff_comment["flag_count"] is None
    # The existing events list keeps its contract: the same steps, comments' text not in notes.
    events = (await client.get(f"/api/v1/issues/{issue_id}/events")).json()
    assert [e["action"] for e in events] == [s["action"] for s in steps]
    assert all(e["note"] is None for e in events if e["action"] == "commented")
    listed = (await client.get(f"/api/v1/issues/{issue_id}/comments")).json()
    assert [c["body"] for c in listed] == bodies
    assert all(c["mine"] is False for c in listed)


async def test_notes_are_for_the_handling_agency_and_admins_only(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    issue_id = report(db, database, city)
    assert (await act(client, settings, city.agent, issue_id, "claim")).status_code == 200
    note = await comment(
        client, who(settings, city.agent), issue_id, body="Cable theft again", internal=True
    )
    assert note.status_code == 201, note.text
    assert note.json()["kind"] == "note"
    by_admin = await comment(client, who(settings, city.admin), issue_id, body="ok", internal=True)
    assert by_admin.status_code == 201

    for viewer in (city.agent, city.admin):
        steps = await timeline(client, who(settings, viewer), issue_id)
        assert [s["action"] for s in steps][-2:] == ["noted", "noted"]
        assert steps[-2]["comment"]["body"] == "Cable theft again"
        assert steps[-2]["comment"]["author"]["name"] == city.agent.display_name
    # The other candidate agency sees internal steps, but notes belong to the handling agency.
    readers: tuple[User | None, ...] = (None, city.reporter, city.stranger, city.rival)
    for reader in readers:
        headers = who(settings, reader)
        actions = [s["action"] for s in await timeline(client, headers, issue_id)]
        assert "noted" not in actions
        events = (await client.get(f"/api/v1/issues/{issue_id}/events", headers=headers)).json()
        assert "noted" not in [e["action"] for e in events]
        listed = (await client.get(f"/api/v1/issues/{issue_id}/comments", headers=headers)).json()
        assert listed == []
    # A note's link still names a comment that exists, but not for those who cannot see it.
    note_id = note.json()["id"]
    hidden_from_citizen = await client.post(
        f"/api/v1/comments/{note_id}/flags", headers=DEVICE, json={}
    )
    assert hidden_from_citizen.status_code == 404


async def test_who_may_write_a_note(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    issue_id = report(db, database, city)
    # An agency it was routed to is missing a step, not a permission.
    before_claim = await comment(
        client, who(settings, city.agent), issue_id, body="x", internal=True
    )
    assert before_claim.status_code == 409
    assert problem_type(before_claim) == "claim-first"
    assert (await act(client, settings, city.agent, issue_id, "claim")).status_code == 200
    for user in (city.reporter, city.rival, city.east_agent):
        refused = await comment(client, who(settings, user), issue_id, body="x", internal=True)
        assert refused.status_code == 403, user
    device = await comment(client, DEVICE, issue_id, body="x", internal=True)
    assert device.status_code == 403
    assert db.scalar(select(Comment.id)) is None


async def test_a_public_comment_tells_the_reporter_and_followers_but_not_its_author(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    issue_id = report(db, database, city)
    follower = city.stranger
    await client.post(f"/api/v1/issues/{issue_id}/follow", headers=bearer(settings, follower))
    await client.post(f"/api/v1/issues/{issue_id}/follow", headers=bearer(settings, city.admin))
    before = len(outbox(database, issue_id))
    response = await comment(client, who(settings, follower), issue_id, body="Dark for a week")
    assert response.status_code == 201
    rows = outbox(database, issue_id)[before:]
    assert {(r.recipient_user_id, r.reason) for r in rows} == {
        (city.reporter.id, "reporter"),
        (city.admin.id, "follower"),
    }
    assert {r.payload["event"]["comment"] for r in rows} == {"Dark for a week"}
    # A note tells no citizen and no follower.
    assert (await act(client, settings, city.agent, issue_id, "claim")).status_code == 200
    before = len(outbox(database, issue_id))
    note = await comment(client, who(settings, city.agent), issue_id, body="secret", internal=True)
    assert note.status_code == 201
    assert [r.recipient_user_id for r in outbox(database, issue_id)[before:]] == []


async def test_the_comment_message_is_worded_in_the_recipients_language(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    city.reporter.language = Language.th
    db.commit()
    issue_id = report(db, database, city)
    before = len(outbox(database))
    assert (await comment(client, DEVICE, issue_id, body="ไฟยังดับอยู่")).status_code == 201
    assert len(outbox(database)) > before
    mails = delivered_mail(database, settings)
    # The report's receipt and the comment's message may arrive in either order.
    texts = [m.get_content() for m in mails if m["To"] == city.reporter.email]
    text = next(t for t in texts if "ไฟยังดับอยู่" in t)
    assert "มีความคิดเห็นใหม่ในเรื่องนี้" in text
    assert "ความคิดเห็น (ตามที่เขียนไว้): ไฟยังดับอยู่" in text


async def test_bad_comments_are_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    issue_id = report(db, database, city)
    headers = who(settings, city.stranger)
    for body, location in (
        ({}, "body"),
        ({"body": ""}, "body.body"),
        ({"body": "   "}, "body.body"),
        ({"body": "x" * 4001}, "body.body"),
        ({"body": "null \x00 byte"}, "body.body"),
        ({"body": "bell \x07"}, "body.body"),
        ({"body": "hi", "template_id": 1}, "body"),
        ({"body": "hi", "language": "th"}, "body"),
        ({"body": "hi", "colour": "red"}, "body.colour"),
        ({"body": "hi", "internal": None}, "body.internal"),
        ({"body": 5}, "body.body"),
        ({"template_id": 0}, "body.template_id"),
        ({"template_id": 1, "language": "fr"}, "body.language"),
    ):
        response = await comment(client, headers, issue_id, **body)
        assert response.status_code == 422, (body, response.text)
        assert problem_type(response) == "validation-failed"
        assert location in {e["location"] for e in response.json()["errors"]}, body
    assert (await comment(client, {}, issue_id, body="anonymous")).status_code == 401
    missing = await comment(client, headers, "NOSUCHISSUE", body="hi")
    assert missing.status_code == 404
    assert db.scalar(select(Comment.id)) is None
    assert db.scalar(select(IssueEvent.id).where(IssueEvent.action == "commented")) is None


async def test_a_comment_may_say_things_on_several_lines(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    issue_id = report(db, database, city)
    text = "Line one\nLine two\twith a tab"
    response = await comment(client, who(settings, city.stranger), issue_id, body=text)
    assert response.status_code == 201
    assert response.json()["body"] == text
