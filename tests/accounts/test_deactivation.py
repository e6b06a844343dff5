"""An admin switches an account off: from its next request on, nothing it holds works."""

from __future__ import annotations

import logging

import httpx
import pytest
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import AuthSession, Role, SessionEnd, User
from tests.factories import (
    PASSWORD,
    bearer,
    login,
    make_agency,
    make_api_key,
    make_category,
    make_user,
)

DEVICE = {"X-Device-Id": "device-of-a-vandal-0001"}
REPORT = {"category": "pothole", "title": "Hole", "latitude": 13.72, "longitude": 100.52}


async def _switch(
    client: httpx.AsyncClient, headers: dict[str, str], user_id: int, *, on: bool
) -> httpx.Response:
    return await client.patch(f"/api/v1/users/{user_id}", headers=headers, json={"is_active": on})


async def test_a_switched_off_person_is_refused_on_the_next_request(
    client: httpx.AsyncClient,
    db: Session,
    settings: Settings,
    admin: User,
    admin_headers: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    citizen = make_user(db)
    tokens = login(settings, citizen)
    as_citizen = {"Authorization": f"Bearer {tokens.access_token}"}
    assert (await client.get("/api/v1/users/me", headers=as_citizen)).status_code == 200

    with caplog.at_level(logging.INFO, logger="civicloop.audit"):
        response = await _switch(client, admin_headers, citizen.id, on=False)

    assert response.status_code == 200, response.text
    assert response.json()["is_active"] is False
    assert (await client.get("/api/v1/users/me", headers=as_citizen)).status_code == 401
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens.refresh_token}
    )
    assert refreshed.status_code == 401
    logged_in = await client.post(
        "/api/v1/auth/login", json={"email": citizen.email, "password": PASSWORD}
    )
    assert logged_in.status_code == 401
    db.expire_all()
    ended = db.query(AuthSession).filter(AuthSession.user_id == citizen.id).all()
    assert [s.end_reason for s in ended] == [SessionEnd.deactivated]
    [record] = [r for r in caplog.records if r.name == "civicloop.audit"]
    assert {k: record.__dict__[k] for k in ("actor_id", "user_id", "active")} == {
        "actor_id": admin.id,
        "user_id": citizen.id,
        "active": False,
    }


async def test_api_keys_stop_and_come_back_with_the_account(
    client: httpx.AsyncClient, db: Session, settings: Settings, admin_headers: dict[str, str]
) -> None:
    agency = make_agency(db, categories=[make_category(db)])
    agent = make_user(db, Role.agent, agency=agency)
    key = {"X-API-Key": make_api_key(db, agent)}
    old_login = bearer(settings, agent)

    await _switch(client, admin_headers, agent.id, on=False)
    assert (await client.get("/api/v1/users/me", headers=key)).status_code == 401

    back = await _switch(client, admin_headers, agent.id, on=True)
    assert back.json()["is_active"] is True
    assert (await client.get("/api/v1/users/me", headers=key)).status_code == 200
    # Sessions do not come back: the person logs in again.
    assert (await client.get("/api/v1/users/me", headers=old_login)).status_code == 401


async def test_a_switched_off_device_cannot_report(
    client: httpx.AsyncClient, db: Session, admin_headers: dict[str, str]
) -> None:
    make_agency(db, categories=[make_category(db, "pothole")])
    first = await client.post("/api/v1/issues", headers=DEVICE, json=REPORT)
    assert first.status_code == 201, first.text
    device_user = (await client.get("/api/v1/users/me", headers=DEVICE)).json()

    await _switch(client, admin_headers, device_user["id"], on=False)

    refused = await client.post("/api/v1/issues", headers=DEVICE, json=REPORT)
    assert refused.status_code == 401
    assert (await client.get("/api/v1/users/me", headers=DEVICE)).status_code == 401


async def test_only_admins_switch_accounts_and_not_their_own(
    client: httpx.AsyncClient, db: Session, settings: Settings
) -> None:
    admin = make_user(db, Role.admin)
    citizen = make_user(db)
    manager = make_user(db, Role.manager, agency=make_agency(db, categories=[]))
    by_manager = await _switch(client, bearer(settings, manager), citizen.id, on=False)
    assert by_manager.status_code == 403
    own = await _switch(client, bearer(settings, admin), admin.id, on=False)
    assert own.status_code == 409
    missing = await _switch(client, bearer(settings, admin), 999_999, on=False)
    assert missing.status_code == 404
