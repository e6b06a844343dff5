"""A request made through Open311 with an e-mail address closes the loop like any report: the
address gets only a confirmation link until its owner confirms it, then every step, and the
resolution asks "is it fixed?"; the answer and stars are theirs. Real SMTP on loopback."""

from __future__ import annotations

from email.message import EmailMessage

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import Issue, IssueFeedback, IssueStatus, User
from tests.lifecycle.helpers import act
from tests.notifications.test_closed_loop import token_of
from tests.notifications.test_verified_contacts import mailed, token_in
from tests.open311.conftest import V2, Open311City
from tests.open311.helpers import request_form

SUBMITTER = "Resident@Example.net"
ADDRESS = SUBMITTER.lower()


async def _submit(client: httpx.AsyncClient, city: Open311City, **form: str) -> httpx.Response:
    return await client.post(
        f"{V2}/requests.json", data=request_form(city.api_key, email=SUBMITTER, **form)
    )


def _stored(database: Database, public_id: str) -> Issue:
    with database.session(write=False) as session:
        return session.scalars(select(Issue).where(Issue.public_id == public_id)).one()


async def test_the_submitter_confirms_hears_each_step_and_answers_the_resolution(
    client: httpx.AsyncClient, settings: Settings, database: Database, city: Open311City
) -> None:
    created = await _submit(client, city)
    assert created.status_code == 201, created.text
    [request] = created.json()
    issue_id = request["service_request_id"]
    assert (await act(client, settings, city.agent, issue_id, "claim")).status_code == 200

    # Until confirmed: the one link, not the claim.
    [confirmation] = mailed(database, settings, ADDRESS)
    assert issue_id in confirmation["Subject"]
    token = token_in(confirmation, "/api/v1/follow-by-email/confirm")
    confirmed = await client.post("/api/v1/follow-by-email/confirm", json={"token": token})
    assert confirmed.status_code == 200, confirmed.text
    submitter = _stored(database, issue_id).reporter_id
    assert submitter != city.integration.id  # the report is the submitter's now

    assert (await act(client, settings, city.agent, issue_id, "start")).status_code == 200
    [started] = mailed(database, settings, ADDRESS)
    assert issue_id in started.get_content()
    resolved = await act(client, settings, city.agent, issue_id, "resolve", resolution="fixed")
    assert resolved.status_code == 200, resolved.text
    [resolution] = mailed(database, settings, ADDRESS)
    text = resolution.get_content()
    assert f"/issues/{issue_id}/feedback?token=" in text

    answered = await client.post(
        "/api/v1/feedback",
        json={
            "token": token_of(text, "Yes, it is fixed"),
            "answer": "fixed",
            "rating": 5,
            "comment": "Fixed the same week, thank you",
        },
    )
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "closed"
    with database.session(write=False) as session:
        feedback = session.scalars(select(IssueFeedback)).one()
        assert (feedback.answer, feedback.rating) == ("fixed", 5)
        reporter = session.get_one(User, feedback.reporter_id)
        assert reporter.id == submitter
        assert reporter.email == ADDRESS
    assert _stored(database, issue_id).status == IssueStatus.closed


async def test_an_unconfirmed_submitter_hears_nothing_but_the_link(
    client: httpx.AsyncClient, settings: Settings, database: Database, city: Open311City
) -> None:
    created = await _submit(client, city)
    issue_id = created.json()[0]["service_request_id"]
    for step in ("claim", "start"):
        assert (await act(client, settings, city.agent, issue_id, step)).status_code == 200
    resolved = await act(client, settings, city.agent, issue_id, "resolve", resolution="fixed")
    assert resolved.status_code == 200, resolved.text
    received: list[EmailMessage] = mailed(database, settings, ADDRESS)
    assert len(received) == 1
    assert "/follow-by-email/confirm?token=" in received[0].get_content()
    assert _stored(database, issue_id).reporter_id == city.integration.id


async def test_a_request_whose_email_is_no_address_is_refused_and_stores_nothing(
    client: httpx.AsyncClient, db: Session, city: Open311City
) -> None:
    refused = await client.post(
        f"{V2}/requests.json", data=request_form(city.api_key, email="not an address")
    )
    assert refused.status_code == 400, refused.text
    [error] = refused.json()
    assert error["code"] == 400
    assert "email" in error["description"]
    assert db.scalars(select(Issue)).first() is None
