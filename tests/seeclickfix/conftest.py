"""A small city for the SeeClickFix tests: two districts, two request types (one with
questions), an agency in the west, and issues in each SeeClickFix status, one private and one
hidden (which must never show)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import AttributeDatatype, Category, Issue, LonLat, Resolution, Role, User
from app.services import conversation, duplicates, issues, lifecycle
from app.services.lifecycle import Action
from tests.factories import (
    CITY,
    EAST_DISTRICT,
    IN_EAST,
    IN_WEST,
    WEST_DISTRICT,
    attribute,
    make_agency,
    make_category,
    make_district,
    make_user,
)

API = "/seeclickfix/api/v2"
BANGKOK = dt.timezone(dt.timedelta(hours=7))


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"timezone": "Asia/Bangkok", "public_base_url": "https://city.example"}
    )


@dataclass(frozen=True)
class ScfCity:
    pothole: Category
    light: Category
    agent: User
    # public ids by the status they were left in
    open: str
    acknowledged: str
    closed: str  # resolved
    archived: str  # closed
    private: str
    hidden: str


def _at(days_ago: int) -> dt.datetime:
    return dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC) - dt.timedelta(days=days_ago)


@pytest.fixture
def city(db: Session, database: Database, settings: Settings) -> ScfCity:
    make_district(db, "east", EAST_DISTRICT)
    make_district(db, "west", WEST_DISTRICT)
    pothole = make_category(
        db,
        "pothole",
        attributes=[
            attribute(
                "size",
                AttributeDatatype.singlevaluelist,
                order=1,
                required=True,
                values=[("small", "Smaller than a plate"), ("large", "Larger than a wheel")],
            ),
            attribute("notice", AttributeDatatype.text, order=2, variable=False),
        ],
    )
    light = make_category(db, "streetlight")
    west = make_agency(db, bounds=CITY, categories=[pothole, light], slug="west")
    agent_id = make_user(db, Role.agent, agency=west).id
    reporter_id = make_user(db).id
    neighbour_ids = [make_user(db).id for _ in range(2)]
    made: dict[str, str] = {}
    with database.session(write=True) as session:
        reporter = session.get(User, reporter_id)
        agent = session.get(User, agent_id)
        assert reporter is not None
        assert agent is not None

        def report(name: str, category: Category, at: tuple[float, float], **kw: object) -> Issue:
            issue = issues.create_issue(
                session,
                spatial=database.spatial,
                reporter=reporter,
                category_code=category.code,
                title=f"{name.title()} pothole on Silom",
                description=f"The {name} one",
                location=LonLat(*at),
                address="Silom Soi 5" if name == "open" else None,
                answers={"size": "large"} if category.code == "pothole" else None,
                **kw,  # type: ignore[arg-type]
            ).issue
            made[name] = issue.public_id
            return issue

        def step(issue: Issue, action: Action, **kw: object) -> None:
            lifecycle.transition(
                session,
                issue=issues.get_issue(session, issue.public_id),
                action=action,
                actor=agent,
                expected_version=None,
                reopen_window=settings.reopen_window,
                **kw,  # type: ignore[arg-type]
            )

        opened = report("open", pothole, IN_WEST)
        for neighbour_id in neighbour_ids:
            neighbour = session.get(User, neighbour_id)
            assert neighbour is not None
            duplicates.support(session, issue=opened, user=neighbour)
        acknowledged = report("acknowledged", light, IN_WEST)
        step(acknowledged, Action.claim, note="On our list")
        conversation.add_comment(
            session,
            issue=issues.get_issue(session, acknowledged.public_id),
            author=reporter,
            body="Still dark tonight",
            internal=False,
            zone=settings.zone,
        )
        conversation.add_comment(
            session,
            issue=issues.get_issue(session, acknowledged.public_id),
            author=agent,
            body="internal: order a lamp",
            internal=True,
            zone=settings.zone,
        )
        closed = report("closed", pothole, IN_EAST)
        step(closed, Action.claim)
        step(closed, Action.resolve, note="Filled", resolution=Resolution.fixed)
        archived = report("archived", pothole, IN_WEST)
        step(archived, Action.claim)
        step(archived, Action.resolve, note="Filled", resolution=Resolution.fixed)
        step(archived, Action.close)
        report("private", pothole, IN_WEST, private=True)
        report("hidden", pothole, IN_WEST)
        session.commit()
    # Reported on distinct days, the open one latest, so orders are known.
    for days, name in enumerate(
        ("open", "acknowledged", "closed", "archived", "private", "hidden")
    ):
        db.execute(
            update(Issue)
            .where(Issue.public_id == made[name])
            .values(created_at=_at(days), version=Issue.version)
        )
    db.execute(
        update(Issue)
        .where(Issue.public_id == made["hidden"])
        .values(hidden_at=_at(0), version=Issue.version)
    )
    db.commit()
    return ScfCity(
        pothole=pothole,
        light=light,
        agent=make_user(db, Role.agent, agency=west),
        open=made["open"],
        acknowledged=made["acknowledged"],
        closed=made["closed"],
        archived=made["archived"],
        private=made["private"],
        hidden=made["hidden"],
    )
