"""Log-in back-off: failures make an account wait, doubling up to a cap; the owner gets in once
the wait is over, and a success forgets the failures. Per-address limits stop a spray."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.orm import Session

from app.config import Settings
from app.services.lockout import BackoffRule
from tests.factories import PASSWORD, make_user
from tests.limits.conftest import GENEROUS, AppWith, ClientAt, limits_on

LOGIN = "/api/v1/auth/login"
WRONG = "not the password at all"


@pytest.fixture
def limited_settings(settings: Settings) -> Settings:
    # Two free failures, then one second, doubling to at most two; generous request allowances,
    # so that only the back-off refuses.
    return limits_on(
        settings,
        rate_limit_login=GENEROUS,
        rate_limit_login_ip=GENEROUS,
        login_backoff_free_failures=2,
        login_backoff_base_seconds=1,
        login_backoff_max_seconds=2,
    )


@pytest.mark.parametrize(
    ("failures", "wait"),
    [(0, 0), (1, 0), (3, 0), (4, 1), (5, 2), (6, 4), (13, 512), (14, 900), (10**9, 900)],
)
def test_the_wait_doubles_after_the_free_failures_up_to_the_cap(failures: int, wait: int) -> None:
    rule = BackoffRule(free_failures=3, base_seconds=1, max_seconds=900, window_seconds=86_400)
    assert rule.wait_after(failures) == wait


async def test_after_the_back_off_the_owner_logs_in(client_at: ClientAt, db: Session) -> None:
    owner = make_user(db)
    attacker = client_at("198.51.100.66")
    for _ in range(3):
        guessed = await attacker.post(LOGIN, json={"email": owner.email, "password": WRONG})
        assert guessed.status_code == 401, guessed.text

    # The third failure made the account wait: the owner too, from anywhere, for a second.
    home = client_at("203.0.113.20")
    waiting = await home.post(
        LOGIN, json={"email": owner.email, "password": PASSWORD}, headers={"Accept-Language": "th"}
    )
    assert waiting.status_code == 429, waiting.text
    assert waiting.headers["Retry-After"] == "1"
    assert "วินาที" in waiting.json()["detail"]
    # A guess while the account waits is refused unheard: it does not lengthen the wait.
    unheard = await attacker.post(LOGIN, json={"email": owner.email, "password": WRONG})
    assert unheard.status_code == 429

    await asyncio.sleep(int(waiting.headers["Retry-After"]))
    signed_in = await home.post(LOGIN, json={"email": owner.email, "password": PASSWORD})
    assert signed_in.status_code == 200, signed_in.text

    # The success forgot the failures: a typo now costs no wait.
    typo = await home.post(LOGIN, json={"email": owner.email, "password": WRONG})
    assert typo.status_code == 401
    again = await home.post(LOGIN, json={"email": owner.email, "password": PASSWORD})
    assert again.status_code == 200, again.text


async def test_the_wait_of_one_account_does_not_touch_another(
    client_at: ClientAt, db: Session
) -> None:
    victim, bystander = make_user(db), make_user(db)
    client = client_at()
    for _ in range(3):
        await client.post(LOGIN, json={"email": victim.email, "password": WRONG})
    assert (
        await client.post(LOGIN, json={"email": victim.email, "password": PASSWORD})
    ).status_code == 429
    signed_in = await client.post(LOGIN, json={"email": bystander.email, "password": PASSWORD})
    assert signed_in.status_code == 200, signed_in.text


async def test_one_address_spraying_many_accounts_is_stopped(
    client_at: ClientAt, app_with: AppWith, settings: Settings, db: Session
) -> None:
    app = app_with(limits_on(settings, rate_limit_login=GENEROUS, rate_limit_login_ip="3/year"))
    sprayer = client_at("198.51.100.99", app)
    accounts = [make_user(db) for _ in range(4)]
    for account in accounts[:3]:
        guessed = await sprayer.post(LOGIN, json={"email": account.email, "password": WRONG})
        assert guessed.status_code == 401
    stopped = await sprayer.post(LOGIN, json={"email": accounts[3].email, "password": WRONG})
    assert stopped.status_code == 429
    assert int(stopped.headers["Retry-After"]) >= 1

    owner = await client_at("203.0.113.21", app).post(
        LOGIN, json={"email": accounts[3].email, "password": PASSWORD}
    )
    assert owner.status_code == 200, owner.text
