"""What the security tests share: a small city where every kind of caller exists, and a way to
show that a refused request wrote nothing at all."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import Agency, Base, Category, Resolution, Role, User
from app.services import accounts, lifecycle
from app.services.lifecycle import Action
from tests.factories import (
    CITY,
    EAST_DISTRICT,
    IN_EAST,
    IN_WEST,
    bearer,
    make_agency,
    make_category,
    make_issue,
    make_user,
)

DEVICE_ID = "0b8e1c9a-5d7f-4e2b-9c3a-1f6d8e2a4b7c"

# Every kind of caller, in the order of the matrix's columns.
ACTORS = (
    "anonymous",  # no credentials at all
    "device",  # a device-only reporter (X-Device-Id) of another issue
    "citizen",  # a registered citizen (bearer) with no relation to the issue
    "reporter",  # the citizen who reported the issue (bearer)
    "agent",  # agent of the agency handling the issue (A)
    "manager",  # manager of A
    "candidate",  # agent of an agency the issue was also routed to, which did not claim it (C)
    "outsider",  # agent of an agency the issue was never routed to (U)
    "admin",
    "integration",  # an API key (X-API-Key) that A's agent made for a dashboard
)
KEY_OWNERS = ("agent", "manager", "candidate", "outsider", "admin")

# How the agency A (through its agent) brings a fresh report to each status.
PATH_TO: dict[str, list[tuple[Action, dict[str, Any]]]] = {
    "open": [],
    "acknowledged": [(Action.claim, {})],
    "in_progress": [(Action.claim, {}), (Action.start, {})],
    "resolved": [
        (Action.claim, {}),
        (Action.start, {}),
        (Action.resolve, {"resolution": Resolution.fixed}),
    ],
}


@dataclass(frozen=True)
class World:
    category: Category
    handling: Agency  # A: the west district; it claims the issue
    candidate: Agency  # C: the whole city; routed the same issue, never claims it
    unrelated: Agency  # U: the east district; never routed the issue
    users: dict[str, User]  # by actor ("integration" is the agent behind the key)
    headers: dict[str, dict[str, str]]  # each actor's credentials
    own_key_ids: dict[str, int]  # a key each key owner holds; the integration's is itself
    foreign_key_id: int  # a key of a manager who is none of the actors
    device_issue: str  # what the device reported, in U's district


def build_world(db: Session, database: Database, settings: Settings) -> World:
    category = make_category(db, "pothole")
    handling = make_agency(db, categories=[category], slug="west")
    candidate = make_agency(db, bounds=CITY, categories=[category], slug="metro")
    unrelated = make_agency(db, bounds=EAST_DISTRICT, categories=[category], slug="east")
    users = {
        "citizen": make_user(db),
        "reporter": make_user(db),
        "agent": make_user(db, Role.agent, agency=handling),
        "manager": make_user(db, Role.manager, agency=handling),
        "candidate": make_user(db, Role.agent, agency=candidate),
        "outsider": make_user(db, Role.agent, agency=unrelated),
        "admin": make_user(db, Role.admin),
        "device": accounts.device_user(db, DEVICE_ID),
    }
    own_key_ids = {
        name: accounts.create_api_key(db, owner=users[name], name="laptop")[0].id
        for name in KEY_OWNERS
    }
    integration_key, secret = accounts.create_api_key(db, owner=users["agent"], name="dashboard")
    own_key_ids["integration"] = integration_key.id
    users["integration"] = users["agent"]
    keyholder = make_user(db, Role.manager, agency=unrelated)
    foreign_key_id = accounts.create_api_key(db, owner=keyholder, name="theirs")[0].id
    db.commit()
    device_issue = make_issue(
        db, database.spatial, reporter=users["device"], category=category, at=IN_EAST
    ).public_id
    headers = {
        name: {"X-Device-Id": DEVICE_ID}
        if name == "device"
        else {"X-API-Key": secret}
        if name == "integration"
        else bearer(settings, user)
        for name, user in users.items()
    }
    headers["anonymous"] = {}
    return World(
        category=category,
        handling=handling,
        candidate=candidate,
        unrelated=unrelated,
        users=users,
        headers=headers,
        own_key_ids=own_key_ids,
        foreign_key_id=foreign_key_id,
        device_issue=device_issue,
    )


def report_issue(
    db: Session, database: Database, settings: Settings, world: World, status: str
) -> str:
    """The issue under test: reported by `reporter` where A and C both cover, brought to
    `status` by A's agent. Returns its public id."""
    issue = make_issue(
        db, database.spatial, reporter=world.users["reporter"], category=world.category, at=IN_WEST
    )
    for action, options in PATH_TO[status]:
        lifecycle.transition(
            db,
            issue=issue,
            action=action,
            actor=world.users["agent"],
            expected_version=None,
            reopen_window=settings.reopen_window,
            **options,
        )
        db.commit()
    return issue.public_id


def stored_rows(database: Database) -> dict[str, list[str]]:
    """Every row of every table as committed now, read raw: equal before and after a request
    means the request wrote nothing anywhere."""
    with database.engine.connect() as connection:
        return {
            table.name: sorted(
                repr(tuple(row))
                for row in connection.exec_driver_sql(f'SELECT * FROM "{table.name}"')
            )
            for table in Base.metadata.sorted_tables
        }


PROBLEM_SLUGS = {401: "unauthenticated", 403: "forbidden", 404: "not-found"}


def assert_problem(response: httpx.Response, status: int, *slugs: str) -> dict[str, Any]:
    """An RFC 9457 answer with this status, a title and a detail a person can act on; of one
    of these types when given (else the usual one for the status)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json", response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"]
    assert len(body["detail"]) > 10, body
    assert body["instance"] == response.request.url.path
    expected = slugs or ((PROBLEM_SLUGS[status],) if status in PROBLEM_SLUGS else ())
    if expected:
        assert body["type"].rsplit("/", 1)[-1] in expected, body
    if status == 401:
        assert response.headers["www-authenticate"] == "Bearer"
    return body
