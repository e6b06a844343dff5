"""With CIVICLOOP_REDIS_URL set, every API process counts in the same Redis: two apps share one
allowance and one log-in back-off (the real Redis on this machine, under a prefix of the test's
own that is removed afterwards)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

from app.config import Settings
from tests.factories import PASSWORD, make_user
from tests.limits.conftest import ALLOWANCE, GENEROUS, AppWith, ClientAt, limits_on

REDIS_URL = "redis://127.0.0.1:6379/0"
LOGIN = "/api/v1/auth/login"


@pytest.fixture
async def two_processes(app_with: AppWith, settings: Settings) -> AsyncIterator[list[FastAPI]]:
    shared = limits_on(
        settings,
        redis_url=REDIS_URL,
        rate_limit_prefix=f"civicloop-test-{uuid.uuid4().hex}",
        rate_limit_login=GENEROUS,
        login_backoff_free_failures=0,
        login_backoff_base_seconds=60,
    )
    apps = [app_with(shared), app_with(shared)]
    yield apps
    await apps[0].state.limiter.storage.reset()


async def test_two_apps_share_one_allowance(
    two_processes: list[FastAPI], client_at: ClientAt, db: Session
) -> None:
    owner = make_user(db)
    body = {"email": owner.email, "password": PASSWORD}
    first, second = (client_at("198.51.100.40", app) for app in two_processes)
    for n in range(ALLOWANCE):
        answer = await (first if n % 2 == 0 else second).post(LOGIN, json=body)
        assert answer.status_code == 200, answer.text

    for client in (first, second):
        refused = await client.post(LOGIN, json=body)
        assert refused.status_code == 429, refused.text
        assert int(refused.headers["Retry-After"]) >= 1


async def test_a_failure_on_one_app_makes_the_account_wait_on_the_other(
    two_processes: list[FastAPI], client_at: ClientAt, db: Session
) -> None:
    owner = make_user(db)
    first, second = (client_at(f"198.51.100.{41 + n}", app) for n, app in enumerate(two_processes))
    failed = await first.post(LOGIN, json={"email": owner.email, "password": "wrong guess"})
    assert failed.status_code == 401

    waiting = await second.post(LOGIN, json={"email": owner.email, "password": PASSWORD})
    assert waiting.status_code == 429, waiting.text
    assert 1 <= int(waiting.headers["Retry-After"]) <= 60


async def test_an_unreachable_redis_lets_requests_through(
    app_with: AppWith, client_at: ClientAt, settings: Settings, db: Session
) -> None:
    # Nothing listens on port 1: every count fails at once, and is skipped (and logged).
    app = app_with(limits_on(settings, redis_url="redis://127.0.0.1:1/0"))
    owner = make_user(db)
    client = client_at("198.51.100.45", app)
    for _ in range(ALLOWANCE + 1):
        signed_in = await client.post(LOGIN, json={"email": owner.email, "password": PASSWORD})
        assert signed_in.status_code == 200, signed_in.text
