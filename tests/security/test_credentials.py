"""A request may carry several credentials (a token, an API key, a device id); every one it
carries must hold. The strongest names the caller, but a forged or stale extra one is a 401, not
something quietly ignored."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from tests.factories import IN_WEST, bearer, make_agency, make_api_key, make_category, make_user
from tests.security.helpers import DEVICE_ID, assert_problem, stored_rows

BAD = {
    "Authorization": "Bearer not-a-token",
    "X-API-Key": "not-a-key-anyone-was-given",
    "X-Device-Id": "short",  # too short to be one a device generated
}


@pytest.fixture
def good(db: Session, settings: Settings) -> dict[str, str]:
    """One valid credential of each kind: a citizen's token and API key, a device id."""
    citizen = make_user(db, email="somchai@example.org")
    return {
        **bearer(settings, citizen),
        "X-API-Key": make_api_key(db, citizen),
        "X-Device-Id": DEVICE_ID,
    }


# Every pair of one valid credential and a bad one of another kind.
MIXES = [
    pytest.param(valid, bad, id=f"{valid}+bad-{bad}")
    for valid in BAD
    for bad in BAD
    if valid != bad
]


@pytest.mark.parametrize(("valid", "bad"), MIXES)
async def test_a_bad_extra_credential_is_refused(
    valid: str, bad: str, client: httpx.AsyncClient, good: dict[str, str]
) -> None:
    headers = {valid: good[valid], bad: BAD[bad]}
    assert_problem(await client.get("/api/v1/users/me/issues", headers=headers), 401)


@pytest.mark.parametrize(("valid", "bad"), MIXES)
async def test_a_report_with_a_bad_extra_credential_stores_nothing(
    valid: str,
    bad: str,
    client: httpx.AsyncClient,
    db: Session,
    database: Database,
    good: dict[str, str],
) -> None:
    make_agency(db, categories=[make_category(db, "pothole")])
    before = stored_rows(database)
    refused = await client.post(
        "/api/v1/issues",
        headers={valid: good[valid], bad: BAD[bad]},
        json={
            "category": "pothole",
            "title": "Hole by the bus stop",
            "latitude": IN_WEST[1],
            "longitude": IN_WEST[0],
        },
    )
    assert_problem(refused, 401)
    assert stored_rows(database) == before


async def test_all_valid_credentials_together_name_the_token_holder(
    client: httpx.AsyncClient, db: Session, good: dict[str, str]
) -> None:
    me = await client.get("/api/v1/users/me", headers=good)
    assert me.status_code == 200, me.text
    assert me.json()["email"] == "somchai@example.org"
