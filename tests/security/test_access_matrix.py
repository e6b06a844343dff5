"""Who may do what: every kind of caller against every action, and nothing more.

The table below is the specification. Each cell is the status the caller gets; a refusal (4xx) is
problem+json and writes nothing anywhere (every row of every table is compared before and after).
Issues are public, so touching someone else's issue is 403, not 404; API keys are private, so
someone else's key id answers 404 exactly as a key that does not exist (OWASP API1, BOLA). Role
checks come before object lookups (API5, broken function-level authorisation), so a citizen
hears 403 from staff endpoints before anything is looked up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import ApiKey
from app.services import accounts
from tests.factories import if_match
from tests.security.helpers import (
    ACTORS,
    World,
    assert_problem,
    build_world,
    report_issue,
    stored_rows,
)


@dataclass(frozen=True)
class Attempt:
    """A request, made against an issue first brought to `status` (None: no issue needed)."""

    method: str
    path: str  # formatted with agent, issue, handling, unrelated, own_key, foreign_key
    status: str | None = None
    body: Callable[[World], dict[str, Any]] | None = None
    writes: bool = True


def _staff(role: str, agency: str) -> Callable[[World], dict[str, Any]]:
    def body(world: World) -> dict[str, Any]:
        agency_id = {"A": world.handling.id, "U": world.unrelated.id, "-": None}[agency]
        return {
            "email": f"new.{role}@example.org",
            "password": "a long enough password",
            "display_name": f"New {role}",
            "role": role,
            "agency_id": agency_id,
        }

    return body


ATTEMPTS: dict[str, Attempt] = {
    "report an issue": Attempt(
        "POST",
        "/issues",
        body=lambda w: {
            "category": "pothole",
            "title": "Hole by the bus stop",
            "latitude": 13.72,
            "longitude": 100.52,
        },
    ),
    "read the issue": Attempt("GET", "/issues/{issue}", "acknowledged", writes=False),
    "edit the open issue": Attempt(
        "PATCH", "/issues/{issue}", "open", body=lambda w: {"title": "Deep hole by the stop"}
    ),
    "edit the claimed issue": Attempt(
        "PATCH", "/issues/{issue}", "acknowledged", body=lambda w: {"priority": "high"}
    ),
    "claim": Attempt(
        "POST", "/issues/{issue}/transitions", "open", body=lambda w: {"action": "claim"}
    ),
    "start before any claim": Attempt(
        "POST", "/issues/{issue}/transitions", "open", body=lambda w: {"action": "start"}
    ),
    "start": Attempt(
        "POST", "/issues/{issue}/transitions", "acknowledged", body=lambda w: {"action": "start"}
    ),
    "resolve": Attempt(
        "POST",
        "/issues/{issue}/transitions",
        "in_progress",
        body=lambda w: {"action": "resolve", "resolution": "fixed"},
    ),
    "close": Attempt(
        "POST", "/issues/{issue}/transitions", "resolved", body=lambda w: {"action": "close"}
    ),
    "reopen": Attempt(
        "POST",
        "/issues/{issue}/transitions",
        "resolved",
        body=lambda w: {"action": "reopen", "note": "Still there"},
    ),
    "transfer": Attempt(
        "POST",
        "/issues/{issue}/transitions",
        "acknowledged",
        body=lambda w: {"action": "transfer", "to_agency": w.unrelated.id, "note": "Theirs"},
    ),
    "merge into another issue": Attempt(
        "POST",
        "/issues/{issue}/merge",
        "acknowledged",
        body=lambda w: {"into": w.device_issue},
    ),
    "list unrouted issues": Attempt("GET", "/issues/unrouted", writes=False),
    "read A's queue": Attempt("GET", "/agencies/{handling}/queue", "open", writes=False),
    "read U's queue": Attempt("GET", "/agencies/{unrelated}/queue", writes=False),
    "create an agent of A": Attempt("POST", "/users", body=_staff("agent", "A")),
    "create a manager of U": Attempt("POST", "/users", body=_staff("manager", "U")),
    "create an admin": Attempt("POST", "/users", body=_staff("admin", "-")),
    "add a category": Attempt(
        "POST",
        "/categories",
        body=lambda w: {
            "code": "flooding",
            "group": "water",
            "name_th": "น้ำท่วมขัง",
            "name_en": "Flooding",
            "acknowledge_target_hours": 4,
            "resolve_target_hours": 48,
        },
    ),
    "edit agency A": Attempt("PATCH", "/agencies/{handling}", body=lambda w: {"phone": "02 1"}),
    "list my API keys": Attempt("GET", "/users/me/api-keys", writes=False),
    "create an API key": Attempt("POST", "/users/me/api-keys", body=lambda w: {"name": "bot"}),
    "revoke my API key": Attempt("DELETE", "/users/me/api-keys/{own_key}"),
    "revoke another's API key": Attempt("DELETE", "/users/me/api-keys/{foreign_key}"),
    "assign the claimed issue to A's agent": Attempt(
        "PUT",
        "/issues/{issue}/assignee",
        "acknowledged",
        body=lambda w: {"assignee": w.users["agent"].id},
    ),
    "assign the unclaimed issue": Attempt(
        "PUT", "/issues/{issue}/assignee", "open", body=lambda w: {"assignee": w.users["agent"].id}
    ),
    "read my work queue": Attempt("GET", "/users/me/queue", "open", writes=False),
    "follow the live feed": Attempt("GET", "/feed", writes=False),
    "list my reports": Attempt("GET", "/users/me/issues", writes=False),
    "who am I": Attempt("GET", "/users/me", writes=False),
    "switch off A's agent": Attempt("PATCH", "/users/{agent}", body=lambda w: {"is_active": False}),
}

# A: the agency handling the issue (it claims it); C: another agency the issue was routed to;
# U: an agency whose area does not cover it. Columns as tests.security.helpers.ACTORS: anonymous,
# device-only reporter, citizen, the issue's reporter, A's agent, A's manager, C's agent
# (candidate), U's agent (outsider), admin, and an API key of A's agent (integration).
# fmt: off
MATRIX: dict[str, tuple[int, ...]] = {
    #                           anon dev  cit  rep  agt  mgr  cand out  adm  key
    "report an issue":          (401, 201, 201, 201, 201, 201, 201, 201, 201, 201),
    "read the issue":           (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "edit the open issue":      (401, 403, 403, 200, 409, 409, 409, 403, 200, 409),
    "edit the claimed issue":   (401, 403, 403, 403, 200, 200, 403, 403, 200, 200),
    "claim":                    (401, 403, 403, 403, 200, 200, 200, 403, 403, 200),
    "start before any claim":   (401, 403, 403, 403, 409, 409, 409, 403, 409, 409),
    "start":                    (401, 403, 403, 403, 200, 200, 403, 403, 200, 200),
    "resolve":                  (401, 403, 403, 403, 200, 200, 403, 403, 200, 200),
    "close":                    (401, 403, 403, 403, 200, 200, 403, 403, 200, 200),
    "reopen":                   (401, 403, 403, 200, 200, 200, 403, 403, 200, 200),
    "transfer":                 (401, 403, 403, 403, 200, 200, 403, 403, 200, 200),
    "merge into another issue": (401, 403, 403, 403, 200, 200, 403, 403, 200, 200),
    "list unrouted issues":     (401, 403, 403, 403, 403, 403, 403, 403, 200, 403),
    "read A's queue":           (401, 403, 403, 403, 200, 200, 403, 403, 200, 200),
    "read U's queue":           (401, 403, 403, 403, 403, 403, 403, 200, 200, 403),
    "create an agent of A":     (401, 403, 403, 403, 403, 201, 403, 403, 201, 403),
    "create a manager of U":    (401, 403, 403, 403, 403, 403, 403, 403, 201, 403),
    "create an admin":          (401, 403, 403, 403, 403, 403, 403, 403, 201, 403),
    "add a category":           (401, 403, 403, 403, 403, 403, 403, 403, 201, 403),
    "edit agency A":            (401, 403, 403, 403, 403, 200, 403, 403, 200, 403),
    "list my API keys":         (401, 403, 403, 403, 200, 200, 200, 200, 200, 200),
    "create an API key":        (401, 403, 403, 403, 201, 201, 201, 201, 201, 403),
    "revoke my API key":        (401, 403, 403, 403, 200, 200, 200, 200, 200, 200),
    "revoke another's API key": (401, 403, 403, 403, 404, 404, 404, 404, 404, 404),
    "assign the claimed issue to A's agent":
                                (401, 403, 403, 403, 200, 200, 403, 403, 200, 200),
    "assign the unclaimed issue":
                                (401, 403, 403, 403, 409, 409, 409, 403, 409, 409),
    "read my work queue":       (401, 403, 403, 403, 200, 200, 200, 200, 403, 200),
    "follow the live feed":     (401, 403, 403, 403, 200, 200, 200, 200, 200, 200),
    "list my reports":          (401, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "who am I":                 (401, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "switch off A's agent":     (401, 403, 403, 403, 403, 403, 403, 403, 200, 403),
}
# fmt: on
# A 409 says what would work instead: staff of a routed agency must claim first; an admin
# cannot start what nobody acknowledged.
CONFLICT_TYPES = ("claim-first", "invalid-transition")

CASES = [
    pytest.param(attempt, actor, expected, id=f"{attempt}-{actor}")
    for attempt, row in MATRIX.items()
    for actor, expected in zip(ACTORS, row, strict=True)
]


def test_the_matrix_covers_every_attempt() -> None:
    assert set(MATRIX) == set(ATTEMPTS)


@pytest.fixture
def world(db: Session, database: Database, settings: Settings) -> World:
    return build_world(db, database, settings)


@pytest.mark.parametrize(("attempt", "actor", "expected"), CASES)
async def test_access(
    attempt: str,
    actor: str,
    expected: int,
    client: httpx.AsyncClient,
    db: Session,
    database: Database,
    settings: Settings,
    world: World,
) -> None:
    spec = ATTEMPTS[attempt]
    issue = report_issue(db, database, settings, world, spec.status) if spec.status else ""
    path = spec.path.format(
        agent=world.users["agent"].id,
        issue=issue,
        handling=world.handling.id,
        unrelated=world.unrelated.id,
        own_key=world.own_key_ids.get(actor, world.foreign_key_id),
        foreign_key=world.foreign_key_id,
    )
    headers = world.headers[actor]
    if issue and spec.method != "GET":
        # Every caller names the version it saw, as staff must (428 otherwise): the matrix is
        # about who may, not about versions.
        headers = await if_match(client, issue, headers)
    before = stored_rows(database)
    response = await client.request(
        spec.method,
        f"/api/v1{path}",
        headers=headers,
        json=spec.body(world) if spec.body else None,
    )
    after = stored_rows(database)
    if expected >= 400:
        body = assert_problem(response, expected, *(CONFLICT_TYPES if expected == 409 else ()))
        if expected == 409:
            # Staff are told to claim; the admin, what an admin can do with an open issue.
            assert body["allowed_actions"] == (["transfer"] if actor == "admin" else ["claim"])
        assert after == before, "a refused request wrote something"
    else:
        assert response.status_code == expected, response.text
        assert (after != before) == spec.writes


# Who sees the reporter: the reporter, the agencies the issue was routed to, admins. Everyone
# else reads the same issue without a trace of who reported it.
SEES_REPORTER = {
    "anonymous": False,
    "device": False,
    "citizen": False,
    "reporter": True,
    "agent": True,
    "manager": True,
    "candidate": True,
    "outsider": False,
    "admin": True,
    "integration": True,
}


@pytest.mark.parametrize(("actor", "sees"), SEES_REPORTER.items())
async def test_who_sees_the_reporter(
    actor: str,
    sees: bool,
    client: httpx.AsyncClient,
    db: Session,
    database: Database,
    settings: Settings,
    world: World,
) -> None:
    issue = report_issue(db, database, settings, world, "acknowledged")
    reporter = world.users["reporter"]
    read = await client.get(f"/api/v1/issues/{issue}", headers=world.headers[actor])
    assert read.status_code == 200, read.text
    details = {
        "id": reporter.id,
        "display_name": reporter.display_name,
        "email": reporter.email,
        "language": reporter.language.value,
        "contact_needs": reporter.contact_needs,
    }
    assert read.json()["reporter"] == (details if sees else None)
    assert (str(reporter.email) in read.text) == sees


async def test_my_reports_are_mine_only(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, world: World
) -> None:
    issue = report_issue(db, database, settings, world, "open")
    mine = {"reporter": [issue], "device": [world.device_issue]}
    for actor in ACTORS[1:]:
        listed = await client.get("/api/v1/users/me/issues", headers=world.headers[actor])
        assert listed.status_code == 200, listed.text
        assert [i["id"] for i in listed.json()["items"]] == mine.get(actor, []), actor


async def test_someone_elses_api_key_is_as_unknown_as_a_key_that_never_was(
    client: httpx.AsyncClient, database: Database, world: World
) -> None:
    """BOLA: changing the id in the URL to another user's key neither revokes it nor tells
    that it exists."""
    agent = world.headers["agent"]
    theirs = await client.delete(f"/api/v1/users/me/api-keys/{world.foreign_key_id}", headers=agent)
    nobodys = await client.delete("/api/v1/users/me/api-keys/999999", headers=agent)
    for refused in (theirs, nobodys):
        assert_problem(refused, 404)
    assert theirs.json()["detail"] == nobodys.json()["detail"]
    assert theirs.json()["title"] == nobodys.json()["title"]
    with database.session(write=False) as session:
        key = session.get_one(ApiKey, world.foreign_key_id)
        assert key.revoked_at is None


async def test_a_revoked_key_stops_working_at_once(client: httpx.AsyncClient, world: World) -> None:
    integration = world.headers["integration"]
    assert (await client.get("/api/v1/users/me", headers=integration)).status_code == 200
    revoked = await client.delete(
        f"/api/v1/users/me/api-keys/{world.own_key_ids['integration']}", headers=integration
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_at"] is not None
    assert_problem(await client.get("/api/v1/users/me", headers=integration), 401)


async def test_an_api_key_cannot_mint_credentials(
    client: httpx.AsyncClient, db: Session, database: Database, world: World
) -> None:
    """A manager's key can do the manager's work, but not make the keys and accounts that would
    outlive its own revocation if it leaked."""
    _, secret = accounts.create_api_key(db, owner=world.users["manager"], name="ops")
    db.commit()
    key = {"X-API-Key": secret}
    assert (await client.get(f"/api/v1/agencies/{world.handling.id}/queue", headers=key)).is_success
    before = stored_rows(database)
    for path, body in (
        ("/users/me/api-keys", {"name": "another"}),
        (
            "/users",
            {
                "email": "new.agent@example.org",
                "password": "a long enough password",
                "display_name": "New agent",
                "role": "agent",
                "agency_id": world.handling.id,
            },
        ),
    ):
        refused = await client.post(f"/api/v1{path}", headers=key, json=body)
        assert "log in" in assert_problem(refused, 403)["detail"]
    assert stored_rows(database) == before
