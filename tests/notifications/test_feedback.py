"""The reporter answers back from the "resolved" message: fixed closes the issue, not fixed
reopens it to the agency with a status event, and a 1-5 rating with a comment; links are signed
and expire. Issues nobody disputes are closed by the worker after a while."""

from __future__ import annotations

import datetime as dt
import time
from email.message import EmailMessage

import httpx
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import Issue, IssueFeedback, Language
from app.models.base import utcnow
from app.services.notifications.feedback import auto_close_all
from app.services.notifications.tokens import FeedbackClaim, LinkSigner
from tests.factories import login
from tests.lifecycle.helpers import City, drive, problem_type, report, stored_events, stored_issue
from tests.notifications.conftest import Spawn
from tests.notifications.helpers import confirm, delivered_mail, link, outbox


async def resolved_message(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> tuple[str, EmailMessage]:
    city.reporter.language = Language.en
    db.commit()
    issue_id = report(db, database, city)
    await drive(client, settings, city.agent, issue_id, "resolved")
    mail = delivered_mail(database, settings)
    resolved = [m for m in mail if m["To"] == city.reporter.email and "resolved" in m["Subject"]]
    assert len(resolved) == 1
    return issue_id, resolved[0]


async def test_yes_it_is_fixed_closes_the_issue_in_one_tap(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    issue_id, message = await resolved_message(client, settings, database, db, city)
    assert message["Subject"] == "[civicloop] Broken street light: resolved"
    response = await confirm(client, link(message, "Yes, it is fixed"))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "issue": issue_id,
        "status": "closed",
        "answer": "fixed",
        "rating": None,
        "comment": None,
    }
    last = stored_events(database, issue_id)[-1]
    # The system's words are a message key, worded for each reader; no one wrote a note.
    assert (last.action, last.actor_id, last.note, last.message_key) == (
        "closed",
        city.reporter.id,
        None,
        "message.reporter_fixed",
    )
    # Tapping again changes nothing; the other answer is now refused.
    assert (await confirm(client, link(message, "Yes, it is fixed"))).status_code == 200
    refused = await confirm(client, link(message, "No, it is not fixed"))
    assert refused.status_code == 409
    # The reporter is told it is closed: that message closes the loop.
    closing = [r for r in outbox(database, issue_id) if r.payload["event"]["action"] == "closed"]
    assert [r.recipient_user_id for r in closing] == [city.reporter.id]


async def test_opening_the_links_as_a_mail_scanner_does_changes_nothing(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    """Every link in the message answers GET with what it would do and the POST that does it;
    the issue, its answers and the reporter's following stay as they were."""
    issue_id, message = await resolved_message(client, settings, database, db, city)
    events = len(stored_events(database, issue_id))
    links = [link(message, label) for label in ("Yes, it is fixed", "No, it is not fixed", "4:")]
    links.append(link(message, "Stop these messages"))
    # A forged Host does not move the links: they come from CIVICLOOP_PUBLIC_BASE_URL.
    shown = [(await client.get(path, headers={"host": "evil.example"})) for path in links]
    assert [r.status_code for r in shown] == [200] * 4
    fixed, not_fixed, rating, stop = (r.json() for r in shown)
    token = links[0].split("token=", 1)[1].split("&", 1)[0]
    assert fixed == {
        "action": "fixed",
        "description": f"Confirm that issue {issue_id} is fixed: it will be closed.",
        "method": "POST",
        "href": "http://127.0.0.1:8000/api/v1/feedback",
        "content_type": "application/json",
        "body": {"token": token, "answer": "fixed"},
    }
    assert (not_fixed["action"], not_fixed["body"]["answer"]) == ("not_fixed", "not_fixed")
    assert (rating["action"], rating["body"]["rating"]) == ("rating", 4)
    assert stop["href"] == "http://127.0.0.1:8000" + links[3]
    assert (stop["content_type"], stop["body"]) == (
        "application/x-www-form-urlencoded",
        {"List-Unsubscribe": "One-Click"},
    )
    assert stop["description"].startswith("Stop following this issue?")
    assert stored_issue(database, issue_id).status == "resolved"
    assert len(stored_events(database, issue_id)) == events
    with database.session(write=False) as session:
        assert session.query(IssueFeedback).count() == 0
    # Still following: the next step of the issue still reaches the reporter.
    thai = await client.get(links[0], headers={"accept-language": "th"})
    assert thai.json()["description"] == f"ยืนยันว่าเรื่อง {issue_id} ได้รับการแก้ไขแล้ว: เรื่องจะถูกปิด"
    assert (await confirm(client, links[0])).json()["status"] == "closed"
    closing = [r for r in outbox(database, issue_id) if r.payload["event"]["action"] == "closed"]
    assert [r.recipient_user_id for r in closing] == [city.reporter.id]


async def test_a_link_without_an_answer_is_refused(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    _, message = await resolved_message(client, settings, database, db, city)
    bare = link(message, "Yes, it is fixed").replace("&answer=fixed", "")
    refused = await client.get(bare)
    assert (refused.status_code, problem_type(refused)) == (422, "validation-failed")


async def test_no_it_is_not_fixed_reopens_it_to_the_agency_with_a_status_event(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    issue_id, message = await resolved_message(client, settings, database, db, city)
    path = link(message, "No, it is not fixed")
    token = path.split("token=", 1)[1].split("&", 1)[0]
    response = await client.post(
        "/api/v1/feedback",
        json={"token": token, "answer": "not_fixed", "rating": 2, "comment": "Still dark at night"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "acknowledged"
    issue = stored_issue(database, issue_id)
    assert (issue.agency_id, issue.reopen_count, issue.resolved_at) == (city.west.id, 1, None)
    last = stored_events(database, issue_id)[-1]
    assert (last.action, last.to_status, last.note, last.message_key) == (
        "reopened",
        "acknowledged",
        None,
        "message.reporter_not_fixed",
    )
    # The reporter's words are a public comment the reopening carries (moderated like any).
    assert last.comment_id is not None
    assert last.is_public
    # The agency's staff who follow its queue hear of it in a message of their own, though they
    # follow nothing; the reporter gets a receipt.
    reopened = [r for r in outbox(database, issue_id) if r.payload["event"]["action"] == "reopened"]
    assert {(r.recipient_user_id, r.reason, r.template) for r in reopened} == {
        (city.reporter.id, "reporter", "issue_update"),
        (city.agent.id, "disputed", "agency_reopened"),
    }
    assert reopened[0].payload["event"]["comment"] == "Still dark at night"


async def test_a_rating_alone_is_recorded_and_can_be_changed(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    issue_id, message = await resolved_message(client, settings, database, db, city)
    assert "  4: http" in message.get_content()
    rate = link(message, "5:")
    assert (await confirm(client, rate)).json()["rating"] == 5
    assert (await confirm(client, rate.replace("rating=5", "rating=3"))).json()["rating"] == 3
    assert stored_issue(database, issue_id).status == "resolved"
    bad = await client.get(rate.replace("rating=5", "rating=9"))
    assert bad.status_code == 422


async def test_links_are_signed_expire_and_belong_to_one_resolution(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    issue_id, message = await resolved_message(client, settings, database, db, city)
    path = link(message, "Yes, it is fixed")
    tampered = await client.get(path.replace("token=", "token=x"))
    assert (tampered.status_code, problem_type(tampered)) == (400, "invalid-link")
    issue = stored_issue(database, issue_id)
    assert issue.resolved_at is not None
    signer = LinkSigner(settings.secret_key)
    # Someone else's issue, or a resolution that is not the current one.
    wrong = signer.feedback_token(FeedbackClaim(issue.id, city.stranger.id, issue.resolved_at))
    assert (await client.get(f"/api/v1/feedback?token={wrong}&answer=fixed")).status_code == 400
    stale = signer.feedback_token(
        FeedbackClaim(issue.id, city.reporter.id, issue.resolved_at - dt.timedelta(days=3))
    )
    assert (
        await confirm(client, f"/api/v1/feedback?token={stale}&answer=fixed")
    ).status_code == 409


async def test_an_expired_link_is_refused_with_advice(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    from itsdangerous import TimestampSigner, URLSafeTimedSerializer

    issue_id, _ = await resolved_message(client, settings, database, db, city)
    issue = stored_issue(database, issue_id)
    assert issue.resolved_at is not None

    class FifteenDaysAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 15 * 86400

    signed_then = URLSafeTimedSerializer(
        settings.secret_key, salt="civicloop.feedback", signer=FifteenDaysAgo
    )
    token = signed_then.dumps([issue.id, city.reporter.id, issue.resolved_at.isoformat()])
    response = await client.get(f"/api/v1/feedback?token={token}&answer=fixed")
    assert response.status_code == 400
    assert "expired" in response.json()["detail"]
    assert stored_issue(database, issue_id).status == "resolved"


async def test_the_worker_closes_issues_resolved_long_enough_ago_and_undisputed(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    old, recent, disputed = (report(db, database, city) for _ in range(3))
    for issue_id in (old, recent, disputed):
        await drive(client, settings, city.agent, issue_id, "resolved")
    with database.session(write=True) as session, session.begin():
        session.execute(
            update(Issue)
            .where(Issue.public_id.in_([old, disputed]))
            .values(resolved_at=utcnow() - dt.timedelta(days=8))
        )
    # The reporter disputes one: reopened, so it is no longer "resolved" and stays open.
    response = await client.post(
        f"/api/v1/issues/{disputed}/transitions",
        headers={"Authorization": f"Bearer {_token(settings, city)}"},
        json={"action": "reopen", "note": "Not fixed"},
    )
    assert response.status_code == 200, response.text
    assert auto_close_all(database, settings) == 1
    assert [stored_issue(database, i).status for i in (old, recent, disputed)] == [
        "closed",
        "resolved",
        "acknowledged",
    ]
    last = stored_events(database, old)[-1]
    assert (last.action, last.actor_id, last.actor_role) == ("closed", None, "system")
    assert (last.note, last.message_key, last.message_params) == (
        None,
        "message.auto_closed",
        {"days": 7},
    )
    assert [
        r.recipient_user_id
        for r in outbox(database, old)
        if r.payload["event"]["action"] == "closed"
    ] == [city.reporter.id]
    with database.session(write=False) as session:
        assert session.query(IssueFeedback).count() == 0


def _token(settings: Settings, city: City) -> str:
    return login(settings, city.reporter).access_token


async def test_the_running_worker_process_does_the_auto_closing(
    client: httpx.AsyncClient,
    settings: Settings,
    database: Database,
    db: Session,
    city: City,
    spawn_worker: Spawn,
) -> None:
    issue_id = report(db, database, city)
    await drive(client, settings, city.agent, issue_id, "resolved")
    with database.session(write=True) as session, session.begin():
        session.execute(
            update(Issue)
            .where(Issue.public_id == issue_id)
            .values(resolved_at=utcnow() - dt.timedelta(days=2))
        )
    worker = spawn_worker(CIVICLOOP_AUTO_CLOSE_DAYS="1", CIVICLOOP_AUTO_CLOSE_CHECK_SECONDS="0.5")
    deadline = time.monotonic() + 90
    while stored_issue(database, issue_id).status != "closed":
        assert time.monotonic() < deadline, "the worker did not close the issue"
        assert worker.poll() is None
        time.sleep(0.2)
    last = stored_events(database, issue_id)[-1]
    assert (last.message_key, last.message_params) == ("message.auto_closed", {"days": 1})
