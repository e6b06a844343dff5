"""Webhooks: a signed JSON POST per message, with a stable id across retries; receivers that
fail or stall are retried with backoff; private addresses are refused unless allow-listed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

import httpx
import orjson
import pytest
from sqlalchemy.orm import Session
from standardwebhooks import Webhook, WebhookVerificationError

from app.config import Settings
from app.db import Database
from app.models import Role
from app.models.base import utcnow
from app.services.notifications.channels.webhook import new_secret
from app.services.notifications.delivery import backoff_seconds
from tests.factories import bearer, make_user
from tests.lifecycle.helpers import City, act, problem_type, report
from tests.notifications.helpers import drain, due_now, outbox
from tests.notifications.receivers import HttpReceiver, http_receiver


async def add_agency_webhook(
    client: httpx.AsyncClient,
    manager_headers: dict[str, str],
    url: str,
    agency_id: int,
) -> str:
    response = await client.post(
        "/api/v1/webhooks", headers=manager_headers, json={"url": url, "agency_id": agency_id}
    )
    assert response.status_code == 201, response.text
    secret: str = response.json()["secret"]
    return secret


def verify_legacy(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What receivers of webhooks made before Standard Webhooks signing do: key with the whole
    secret string."""
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(secret.encode(), signed, hashlib.sha256).digest())
    scheme, _, given = headers["webhook-signature"].partition(",")
    return scheme == "v1" and hmac.compare_digest(given.encode(), expected)


async def test_an_agency_system_receives_every_step_signed_and_verifiable(
    loopback_client: httpx.AsyncClient,
    loopback_settings: Settings,
    database: Database,
    db: Session,
    city: City,
) -> None:
    manager = make_user(db, Role.manager, agency=city.west)
    receiver = HttpReceiver()
    with http_receiver(receiver) as base:
        secret = await add_agency_webhook(
            loopback_client, bearer(loopback_settings, manager), f"{base}/hook", city.west.id
        )
        issue_id = report(db, database, city)
        response = await act(loopback_client, loopback_settings, city.agent, issue_id, "claim")
        assert response.status_code == 200
        drain(database, loopback_settings)
    hooks = [r for r in outbox(database, issue_id) if r.channel == "webhook"]
    assert len(hooks) == 2
    assert {h.status for h in hooks} == {"sent"}
    # The worker sends several messages at once: match the arrivals to the outbox by id.
    arrived = {request.headers["webhook-id"]: request for request in receiver.received}
    assert set(arrived) == {row.message_id for row in hooks}
    for request in receiver.received:
        assert request.path == "/hook"
        assert request.headers["content-type"] == "application/json"
        assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 60
        # The reference verifier (the standardwebhooks package) accepts it as it arrived...
        Webhook(secret).verify(request.body, request.headers)
        # ...and refuses it under another secret, or with a changed body.
        with pytest.raises(WebhookVerificationError):
            Webhook(new_secret()).verify(request.body, request.headers)
        with pytest.raises(WebhookVerificationError):
            Webhook(secret).verify(request.body + b" ", request.headers)
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
    body = orjson.loads(arrived[hooks[1].message_id].body)
    assert body["id"] == hooks[1].message_id
    assert body["type"] == "issue.claimed"
    assert body["data"]["issue"]["id"] == issue_id
    assert body["data"]["issue"]["status"] == "acknowledged"
    assert "pk" not in body["data"]["issue"]


async def test_a_webhook_made_before_standard_signing_keeps_the_key_its_receiver_uses(
    loopback_settings: Settings, database: Database, db: Session, city: City
) -> None:
    """Its secret (43 URL-safe characters) is not base64: signing keeps keying with the whole
    string, so the receiver set up for it goes on verifying."""
    from app.models import Webhook as StoredWebhook

    legacy = "whsec_" + secrets.token_urlsafe(32)
    receiver = HttpReceiver()
    with http_receiver(receiver) as base:
        db.add(
            StoredWebhook(
                owner_id=city.agent.id, agency_id=city.west.id, url=f"{base}/h", secret=legacy
            )
        )
        db.commit()
        report(db, database, city)
        drain(database, loopback_settings)
    [request] = receiver.received
    assert verify_legacy(legacy, request.headers, request.body)
    assert not verify_legacy("whsec_" + secrets.token_urlsafe(32), request.headers, request.body)


async def test_a_failing_or_stalling_receiver_is_retried_with_the_same_id(
    loopback_settings: Settings, database: Database, db: Session, city: City
) -> None:
    from app.models import Webhook

    receiver = HttpReceiver(script=[500, 0, 503], stall_seconds=1.5)
    with http_receiver(receiver) as base:
        db.add(
            Webhook(
                owner_id=city.agent.id, agency_id=city.west.id, url=f"{base}/h", secret="whsec_test"
            )
        )
        db.commit()
        configured = loopback_settings.model_copy(update={"webhook_timeout_seconds": 0.5})
        issue_id = report(db, database, city)
        attempts = []
        for _ in range(4):
            attempts.append(drain(database, configured))
            due_now(database)
    hook = next(r for r in outbox(database, issue_id) if r.channel == "webhook")
    assert [t.retried for t in attempts] == [1, 1, 1, 0]
    assert hook.status == "sent"
    assert hook.attempts == 4
    statuses = [r.status for r in receiver.received]
    # The stalled request is recorded only when the receiver wakes up: maybe after the others.
    assert [s for s in statuses if s != 200] == [500, 503]
    assert 200 in statuses
    assert {r.headers["webhook-id"] for r in receiver.received} == {hook.message_id}


async def test_after_the_last_attempt_the_message_is_dead_lettered(
    loopback_settings: Settings, database: Database, db: Session, city: City
) -> None:
    from app.models import Webhook

    receiver = HttpReceiver(default=502)
    with http_receiver(receiver) as base:
        db.add(
            Webhook(
                owner_id=city.agent.id, agency_id=city.west.id, url=f"{base}/h", secret="whsec_test"
            )
        )
        db.commit()
        configured = loopback_settings.model_copy(update={"notify_max_attempts": 3})
        issue_id = report(db, database, city)
        for _ in range(3):
            drain(database, configured)
            due_now(database)
    hook = next(r for r in outbox(database, issue_id) if r.channel == "webhook")
    assert hook.status == "dead"
    assert hook.attempts == 3
    assert hook.last_error is not None
    assert "answered 502" in hook.last_error
    assert len(receiver.received) == 3


async def test_a_receiver_refusing_the_message_is_not_retried(
    loopback_settings: Settings, database: Database, db: Session, city: City
) -> None:
    from app.models import Webhook

    receiver = HttpReceiver(default=400)
    with http_receiver(receiver) as base:
        db.add(
            Webhook(
                owner_id=city.agent.id, agency_id=city.west.id, url=f"{base}/h", secret="whsec_test"
            )
        )
        db.commit()
        issue_id = report(db, database, city)
        drain(database, loopback_settings)
    hook = next(r for r in outbox(database, issue_id) if r.channel == "webhook")
    assert (hook.status, hook.attempts) == ("dead", 1)


async def test_private_and_loopback_addresses_are_refused_unless_allow_listed(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    headers = bearer(settings, city.reporter)
    for url in (
        "http://127.0.0.1:9/x",
        "http://10.0.0.8/x",
        "http://169.254.169.254/latest",
        "http://[::1]/x",
        "http://localhost/x",
        "http://192.168.1.1/x",
    ):
        response = await client.post("/api/v1/webhooks", headers=headers, json={"url": url})
        assert response.status_code == 422, (url, response.text)
        assert problem_type(response) == "validation-failed"
        assert "CIVICLOOP_OUTBOUND_ALLOW_LIST" in response.json()["detail"]
    # A hook stored while allowed, then the allow-list changed: refused at delivery, not sent.
    from app.models import Webhook

    receiver = HttpReceiver()
    with http_receiver(receiver) as base:
        db.add(
            Webhook(
                owner_id=city.agent.id, agency_id=city.west.id, url=f"{base}/h", secret="whsec_test"
            )
        )
        db.commit()
        issue_id = report(db, database, city)
        drain(database, settings)
    hook = next(r for r in outbox(database, issue_id) if r.channel == "webhook")
    assert hook.status == "dead"
    assert "private, loopback or link-local" in (hook.last_error or "")
    assert receiver.received == []


async def test_only_an_agencys_managers_or_admins_add_its_webhooks(
    client: httpx.AsyncClient, settings: Settings, city: City
) -> None:
    response = await client.post(
        "/api/v1/webhooks",
        headers=bearer(settings, city.agent),
        json={"url": "https://hooks.example/x", "agency_id": city.west.id},
    )
    assert response.status_code == 403


def test_backoff_grows_exponentially_with_jitter_up_to_the_cap() -> None:
    for attempt, ceiling in [(1, 30), (2, 60), (3, 120), (4, 240), (8, 3600), (20, 3600)]:
        low = backoff_seconds(attempt, base=30, cap=3600, rand=lambda: 0.0)
        high = backoff_seconds(attempt, base=30, cap=3600, rand=lambda: 1.0)
        assert (low, high) == (ceiling / 2, ceiling)
        assert low <= backoff_seconds(attempt, base=30, cap=3600) <= high


async def test_a_stopping_worker_hands_back_what_it_claimed_but_did_not_send(
    loopback_settings: Settings, database: Database, db: Session, city: City
) -> None:
    import threading

    from app.services.notifications.delivery import Worker

    issue_id = report(db, database, city)
    stop = threading.Event()
    stop.set()  # SIGTERM arrived just after the claim
    worker = Worker(database, loopback_settings)
    try:
        assert worker.run_once(stop) == 3
    finally:
        worker.close()
    rows = outbox(database, issue_id)
    assert {(r.status, r.attempts) for r in rows} == {("pending", 0)}
    assert all(r.next_attempt_at <= utcnow() for r in rows)


async def test_a_message_that_cannot_be_rendered_is_dead_lettered_not_fatal(
    loopback_settings: Settings, database: Database, db: Session, city: City
) -> None:
    from sqlalchemy import update

    from app.models import Notification

    issue_id = report(db, database, city)
    with database.session(write=True) as session, session.begin():
        session.execute(update(Notification).values(payload={"issue": {}}))
    tally = drain(database, loopback_settings)
    assert tally.dead == 3
    rows = outbox(database, issue_id)
    assert {r.status for r in rows} == {"dead"}
    assert all((r.last_error or "").startswith("internal error: KeyError") for r in rows)
