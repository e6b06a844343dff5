"""Login sessions end: refresh tokens rotate, a reused one ends its whole family, logout ends a
session, and token answers are never cached."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.orm import Session

from app.models import AuthSession, Role, SessionEnd, User
from tests.factories import PASSWORD, make_api_key, make_user


@pytest.fixture
def citizen(db: Session) -> User:
    return make_user(db)


async def _login(client: httpx.AsyncClient, user: User) -> dict[str, str]:
    response = await client.post(
        "/api/v1/auth/login", json={"email": user.email, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    tokens: dict[str, str] = response.json()
    return tokens


async def _refresh(client: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})


async def _me(client: httpx.AsyncClient, access_token: str) -> int:
    response = await client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {access_token}"}
    )
    return response.status_code


async def test_a_refresh_token_is_traded_in_once_for_a_new_pair(
    client: httpx.AsyncClient, citizen: User
) -> None:
    first = await _login(client, citizen)
    second = (await _refresh(client, first["refresh_token"])).json()
    third = await _refresh(client, second["refresh_token"])
    assert third.status_code == 200, third.text
    assert (
        len({first["refresh_token"], second["refresh_token"], third.json()["refresh_token"]}) == 3
    )
    assert await _me(client, third.json()["access_token"]) == 200


async def test_a_reused_refresh_token_ends_the_whole_family(
    client: httpx.AsyncClient, citizen: User, db: Session
) -> None:
    stolen = await _login(client, citizen)
    rotated = (await _refresh(client, stolen["refresh_token"])).json()
    assert await _me(client, rotated["access_token"]) == 200
    elsewhere = await _login(client, citizen)  # another device: a family of its own

    replay = await _refresh(client, stolen["refresh_token"])

    assert replay.status_code == 401
    assert replay.headers["content-type"] == "application/problem+json"
    # Neither holder can go on: the rotated refresh token and every access token are dead.
    assert (await _refresh(client, rotated["refresh_token"])).status_code == 401
    assert await _me(client, stolen["access_token"]) == 401
    assert await _me(client, rotated["access_token"]) == 401
    assert await _me(client, elsewhere["access_token"]) == 200
    ended = db.query(AuthSession).filter(AuthSession.end_reason.is_not(None)).all()
    assert [s.end_reason for s in ended] == [SessionEnd.reuse]


async def test_logout_ends_the_session_and_only_that_one(
    client: httpx.AsyncClient, citizen: User
) -> None:
    phone = await _login(client, citizen)
    laptop = await _login(client, citizen)

    response = await client.post(
        "/api/v1/auth/logout", headers={"Authorization": f"Bearer {phone['access_token']}"}
    )

    assert response.status_code == 204, response.text
    assert await _me(client, phone["access_token"]) == 401
    assert (await _refresh(client, phone["refresh_token"])).status_code == 401
    assert await _me(client, laptop["access_token"]) == 200
    assert (await _refresh(client, laptop["refresh_token"])).status_code == 200


async def test_logout_needs_the_access_token_of_a_login(
    client: httpx.AsyncClient, db: Session
) -> None:
    agent_key = make_api_key(db, make_user(db, Role.admin))
    assert (await client.post("/api/v1/auth/logout")).status_code == 401
    by_key = await client.post("/api/v1/auth/logout", headers={"X-API-Key": agent_key})
    assert by_key.status_code == 401
    assert by_key.json()["detail"].startswith("This needs the access token of a login")


async def test_token_answers_are_never_cached(client: httpx.AsyncClient, citizen: User) -> None:
    login = await client.post(
        "/api/v1/auth/login", json={"email": citizen.email, "password": PASSWORD}
    )
    refreshed = await _refresh(client, login.json()["refresh_token"])
    for response in (login, refreshed):
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["pragma"] == "no-cache"
