"""Web Push: the message is encrypted to the subscription's keys (RFC 8291) and signed with
the server's VAPID key (RFC 8292); a local HTTP server plays the push service, and the test
decrypts what it received as the browser would."""

from __future__ import annotations

import os

import http_ece
import httpx
import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid01
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import Language
from tests.conftest import AppFor, http_client
from tests.factories import b64url, bearer, vapid_key
from tests.lifecycle.helpers import City, act, report
from tests.notifications.helpers import drain, outbox
from tests.notifications.receivers import HttpReceiver, http_receiver


async def test_a_follower_gets_an_encrypted_push_that_only_their_browser_can_read(
    loopback_settings: Settings, database: Database, db: Session, city: City, app_for: AppFor
) -> None:
    settings = loopback_settings.model_copy(update={"vapid_private_key": vapid_key()})
    city.reporter.language = Language.th  # the notice below is in Thai
    db.commit()
    browser_key = ec.generate_private_key(ec.SECP256R1())
    p256dh = browser_key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    auth = os.urandom(16)
    push_service = HttpReceiver(default=201)
    async with http_client(app_for(settings)) as client:
        with http_receiver(push_service) as base:
            server_key = (await client.get("/api/v1/push/vapid-public-key")).json()["public_key"]
            headers = bearer(settings, city.reporter)
            response = await client.post(
                "/api/v1/users/me/push-subscriptions",
                headers=headers,
                json={
                    "endpoint": f"{base}/push/abc",
                    "keys": {"p256dh": b64url(p256dh), "auth": b64url(auth)},
                },
            )
            assert response.status_code == 201, response.text
            issue_id = report(db, database, city)
            assert (await act(client, settings, city.agent, issue_id, "claim")).status_code == 200
            drain(database, settings)
    pushes = [r for r in outbox(database, issue_id) if r.channel == "webpush"]
    assert [p.status for p in pushes] == ["sent", "sent"]
    assert len(push_service.received) == 2
    # The worker sends several messages at once: match the arrivals to the outbox by id.
    arrived = {
        orjson.loads(
            http_ece.decrypt(r.body, private_key=browser_key, auth_secret=auth, version="aes128gcm")
        )["id"]: r
        for r in push_service.received
    }
    assert set(arrived) == {p.message_id for p in pushes}
    request = arrived[pushes[1].message_id]
    assert request.path == "/push/abc"
    assert request.headers["content-encoding"] == "aes128gcm"
    assert int(request.headers["ttl"]) > 0
    # VAPID: the JWT verifies against the key the server publishes.
    assert request.headers["authorization"].startswith("vapid t=")
    assert f"k={server_key}" in request.headers["authorization"]
    assert Vapid01.verify(
        server_key, request.headers["authorization"].replace("vapid t=", "vapid ").split(",")[0]
    )
    plain = http_ece.decrypt(
        request.body, private_key=browser_key, auth_secret=auth, version="aes128gcm"
    )
    notice = orjson.loads(plain)
    assert notice["id"] == pushes[1].message_id
    assert notice["issue"] == issue_id
    assert notice["title"] == "[civicloop] Broken street light: หน่วยงานรับเรื่องแล้ว"
    assert notice["url"].endswith(f"/issues/{issue_id}")
    # Another key cannot read it.
    other = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(http_ece.ECEException):
        http_ece.decrypt(request.body, private_key=other, auth_secret=auth, version="aes128gcm")


async def test_an_expired_subscription_is_dropped(
    loopback_settings: Settings, database: Database, db: Session, city: City
) -> None:
    from app.models import PushSubscription

    settings = loopback_settings.model_copy(update={"vapid_private_key": vapid_key()})
    key = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    push_service = HttpReceiver(default=410)
    with http_receiver(push_service) as base:
        db.add(
            PushSubscription(
                user_id=city.reporter.id,
                endpoint=f"{base}/gone",
                p256dh=b64url(key),
                auth=b64url(os.urandom(16)),
            )
        )
        db.commit()
        issue_id = report(db, database, city)
        drain(database, settings)
    push = next(r for r in outbox(database, issue_id) if r.channel == "webpush")
    assert push.status == "dead"
    assert push.push_subscription_id is None  # the subscription is gone, the log stays
    with database.session(write=False) as session:
        assert session.query(PushSubscription).count() == 0


async def test_push_subscriptions_need_a_configured_server_and_valid_keys(
    client: httpx.AsyncClient, settings: Settings, city: City
) -> None:
    assert (await client.get("/api/v1/push/vapid-public-key")).status_code == 503
    response = await client.post(
        "/api/v1/users/me/push-subscriptions",
        headers=bearer(settings, city.reporter),
        json={"endpoint": "https://push.example/x", "keys": {"p256dh": "AAAA", "auth": "AAAA"}},
    )
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
