"""Helpers for the agency-work tests: a west agency with a manager and two agents, a rival
agency that is also routed the west's issues, and an east agency that never is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import Agency, Category, Issue, Role, User
from tests.factories import IN_WEST, bearer, if_match, make_issue, make_user
from tests.lifecycle.helpers import build_city


@dataclass(frozen=True)
class Office:
    category: Category
    west: Agency
    metro: Agency  # covers the whole city: also routed the west's issues
    east: Agency
    manager: User  # west's
    agent: User  # west's
    colleague: User  # west's second agent
    rival: User  # metro's agent
    east_manager: User
    admin: User
    reporter: User


def build_office(db: Session) -> Office:
    """The lifecycle tests' city, with a manager and a second agent for the west."""
    city = build_city(db)
    return Office(
        category=city.category,
        west=city.west,
        metro=city.metro,
        east=city.east,
        manager=make_user(db, Role.manager, agency=city.west),
        agent=city.agent,
        colleague=make_user(db, Role.agent, agency=city.west),
        rival=city.rival,
        east_manager=city.east_agent,
        admin=city.admin,
        reporter=city.reporter,
    )


def new_issue(
    db: Session, database: Database, office: Office, at: tuple[float, float] = IN_WEST
) -> str:
    """A fresh open issue (in the west district: west and metro are its candidates)."""
    db.commit()  # end any read transaction the app's writes have made stale
    issue = make_issue(
        db, database.spatial, reporter=office.reporter, category=office.category, at=at
    )
    return issue.public_id


async def claimed_issue(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, office: Office
) -> str:
    """A fresh issue the west agency has claimed."""
    issue_id = new_issue(db, database, office)
    response = await client.post(
        f"/api/v1/issues/{issue_id}/transitions",
        headers=await if_match(client, issue_id, bearer(settings, office.agent)),
        json={"action": "claim"},
    )
    assert response.status_code == 200, response.text
    return issue_id


async def assign(
    client: httpx.AsyncClient,
    settings: Settings,
    actor: User,
    issue_id: str,
    assignee: int | None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    # Staff accounts read Thai by default; these tests read English unless they ask.
    sent = {"Accept-Language": "en", **bearer(settings, actor), **(headers or {})}
    if "If-Match" not in sent:
        sent = await if_match(client, issue_id, sent)
    return await client.put(
        f"/api/v1/issues/{issue_id}/assignee", headers=sent, json={"assignee": assignee}
    )


def set_issue(database: Database, issue_id: str, **values: Any) -> None:
    """Change stored columns directly (deadlines in the past, say), as time would."""
    with database.session(write=True) as session, session.begin():
        session.execute(update(Issue).where(Issue.public_id == issue_id).values(**values))
