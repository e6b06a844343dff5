"""Small helpers shared by the lifecycle tests: act over HTTP, read what was stored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import Agency, Base, Category, Issue, IssueEvent, Role, User
from tests.factories import (
    CITY,
    EAST_DISTRICT,
    IN_WEST,
    bearer,
    if_match,
    make_agency,
    make_category,
    make_issue,
    make_user,
)


@dataclass(frozen=True)
class City:
    category: Category
    west: Agency  # covers the west district: a candidate for issues reported there
    metro: Agency  # covers the whole city: the other candidate for the same issues
    east: Agency  # covers only the east district: never a candidate, a transfer target
    agent: User  # west's staff
    rival: User  # metro's staff
    east_agent: User
    admin: User
    reporter: User
    stranger: User  # a citizen with no relation to the issues


def build_city(db: Session) -> City:
    category = make_category(db, "pothole")
    west = make_agency(db, categories=[category], slug="west")
    metro = make_agency(db, bounds=CITY, categories=[category], slug="metro")
    east = make_agency(db, bounds=EAST_DISTRICT, categories=[category], slug="east")
    return City(
        category=category,
        west=west,
        metro=metro,
        east=east,
        agent=make_user(db, Role.agent, agency=west),
        rival=make_user(db, Role.agent, agency=metro),
        east_agent=make_user(db, Role.manager, agency=east),
        admin=make_user(db, Role.admin),
        reporter=make_user(db),
        stranger=make_user(db),
    )


# The shortest way from a fresh report to each status, as the handling agency.
PATH_TO: dict[str, list[dict[str, Any]]] = {
    "open": [],
    "acknowledged": [{"action": "claim"}],
    "in_progress": [{"action": "claim"}, {"action": "start"}],
    "resolved": [
        {"action": "claim"},
        {"action": "start"},
        {"action": "resolve", "resolution": "fixed"},
    ],
    "closed": [
        {"action": "claim"},
        {"action": "start"},
        {"action": "resolve", "resolution": "fixed"},
        {"action": "close"},
    ],
}


def report(db: Session, database: Database, city: City) -> str:
    """A fresh open issue in the west district (west and metro are its candidates)."""
    db.commit()  # end any read transaction the app's writes have made stale
    issue = make_issue(
        db, database.spatial, reporter=city.reporter, category=city.category, at=IN_WEST
    )
    return issue.public_id


async def act(
    client: httpx.AsyncClient,
    settings: Settings,
    user: User,
    issue_id: str,
    action: str,
    *,
    headers: dict[str, str] | None = None,
    **body: Any,
) -> httpx.Response:
    """One step by `user`; staff send the ETag they read unless `headers` name an If-Match."""
    sent = {**bearer(settings, user), **(headers or {})}
    if user.role is not Role.citizen and "If-Match" not in sent:
        sent = await if_match(client, issue_id, sent)
    return await client.post(
        f"/api/v1/issues/{issue_id}/transitions", headers=sent, json={"action": action, **body}
    )


async def drive(
    client: httpx.AsyncClient, settings: Settings, user: User, issue_id: str, status: str
) -> None:
    for step in PATH_TO[status]:
        response = await act(client, settings, user, issue_id, **step)
        assert response.status_code == 200, response.text
    assert response_status(await client.get(f"/api/v1/issues/{issue_id}")) == status


def response_status(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    status: str = response.json()["status"]
    return status


def stored_issue(database: Database, issue_id: str) -> Issue:
    """The issue as committed now, read in a session of its own.

    Fresh sessions keep the `db` fixture's objects (the city) unexpired: refreshing them later
    would open a read transaction there that goes stale while the app writes.
    """
    with database.session(write=False) as session:
        return session.scalars(select(Issue).where(Issue.public_id == issue_id)).one()


def stored_events(database: Database, issue_id: str) -> list[IssueEvent]:
    with database.session(write=False) as session:
        return list(
            session.scalars(
                select(IssueEvent)
                .join(Issue, Issue.id == IssueEvent.issue_id)
                .where(Issue.public_id == issue_id)
                .order_by(IssueEvent.id)
            )
        )


def event_count(database: Database, issue_id: str) -> int:
    return len(stored_events(database, issue_id))


def stored_count(database: Database, model: type[Base]) -> int:
    """Rows committed now, counted in a session of its own (see `stored_issue`)."""
    with database.session(write=False) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def problem_type(response: httpx.Response) -> str:
    """The slug of a problem+json answer's type URI."""
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    slug: str = response.json()["type"].rsplit("/", 1)[-1]
    return slug
