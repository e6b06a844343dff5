"""A page of issues with details=true costs a fixed number of queries, however many issues it
holds: comments, votes, answers and photos are loaded for the whole page at once."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import LonLat, User
from app.services import conversation, duplicates, issues, lifecycle
from app.services.lifecycle import Action
from tests.counting import counted
from tests.factories import IN_WEST, make_user
from tests.seeclickfix.conftest import API, ScfCity

MAX_QUERIES = 20


def _more_issues(database: Database, settings: Settings, city: ScfCity, how_many: int) -> None:
    """Issues each with a claim note, a public comment and a supporter: what details show."""
    with database.session(write=True) as session:
        agent = session.get_one(User, city.agent.id)
        for n in range(how_many):
            reporter, neighbour = (session.get_one(User, make_user(session).id) for _ in range(2))
            issue = issues.create_issue(
                session,
                spatial=database.spatial,
                reporter=reporter,
                category_code=city.pothole.code,
                title=f"Pothole number {n}",
                description="Deep",
                location=LonLat(*IN_WEST),
                address=None,
                answers={"size": "small"},
            ).issue
            lifecycle.transition(
                session,
                issue=issue,
                action=Action.claim,
                actor=agent,
                expected_version=None,
                reopen_window=settings.reopen_window,
                note="On our list",
            )
            conversation.add_comment(
                session,
                issue=issues.get_issue(session, issue.public_id),
                author=reporter,
                body="Still there",
                internal=False,
                zone=settings.zone,
            )
            duplicates.support(session, issue=issue, user=neighbour)
        session.commit()


async def _page(client: httpx.AsyncClient, per_page: int) -> list[dict[str, Any]]:
    response = await client.get(f"{API}/issues", params={"details": "true", "per_page": per_page})
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["issues"]
    return found


async def test_a_page_with_details_costs_the_same_queries_for_2_issues_or_20(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, city: ScfCity
) -> None:
    _more_issues(database, settings, city, 18)
    await _page(client, 20)  # the first request builds what every later one reuses
    with counted(database) as few:
        small = await _page(client, 2)
    with counted(database) as many:
        full = await _page(client, 20)
    assert (len(small), len(full)) == (2, 20)
    assert sum(bool(item["comments"]) for item in full) >= 18
    assert sum(item["vote_count"] for item in full) >= 18
    assert len(many) <= MAX_QUERIES, "\n".join(many)
    assert len(many) == len(few), "\n".join(many)
