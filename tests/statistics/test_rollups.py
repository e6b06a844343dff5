"""The statistics read from the daily rollups equal the same statistics counted from the issue
table, after a seeded mix of what happens to issues: reports (some private), claims, starts,
resolutions, reopenings, transfers, merges, hiding, back-dating and deletion."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import httpx
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from app.db import Database
from app.models import (
    City,
    Flag,
    Issue,
    IssueDayRollup,
    IssueDurationRollup,
    IssueEvent,
    IssueStatus,
    Resolution,
    Role,
    Support,
)
from app.models.types import LonLat
from app.services import duplicates, issues, moderation, rollups, stats
from app.services.issues import IssueFilter
from app.services.lifecycle import Action, apply_action
from app.services.stats import Dimension, Event, Period, Scope, Stage
from app.spatial import SpatialBackend
from tests.factories import (
    EAST_DISTRICT,
    IN_EAST,
    IN_WEST,
    OUTSIDE,
    WEST_DISTRICT,
    make_agency,
    make_category,
    make_district,
    make_user,
)
from tests.known import settings

__all__ = ["settings"]  # Bangkok time for the API, as the city below

ZONE = "Asia/Bangkok"
BANGKOK_MIDNIGHT = dt.datetime(2026, 3, 3, tzinfo=dt.timezone(dt.timedelta(hours=7)))


def _arrange(db: Session, spatial: SpatialBackend) -> None:
    """Twenty-four reports over ten days (some near local midnight), then a seeded story."""
    rng = random.Random(12)
    pothole = make_category(db, "pothole", acknowledge_hours=2, resolve_hours=100)
    light = make_category(db, "streetlight", acknowledge_hours=24, resolve_hours=400)
    make_district(db, "west-side", WEST_DISTRICT)
    make_district(db, "east-side", EAST_DISTRICT)
    west = make_agency(db, categories=[pothole, light], slug="west")
    east = make_agency(db, bounds=EAST_DISTRICT, categories=[light], slug="east")
    reporter, admin = make_user(db), make_user(db, Role.admin)
    staff = {west.id: make_user(db, Role.agent, agency=west)}
    staff[east.id] = make_user(db, Role.agent, agency=east)
    made: list[Issue] = []
    for n in range(24):
        issue = issues.create_issue(
            db,
            spatial=spatial,
            reporter=reporter,
            category_code=rng.choice(["pothole", "streetlight"]),
            title=f"Report {n}",
            description="",
            location=LonLat(*rng.choice([IN_WEST, IN_WEST, IN_EAST, OUTSIDE])),
            address=None,
            private=n % 11 == 5,
        ).issue
        made.append(issue)
    db.flush()
    # Back-dated with a statement (as imports and the tests' own arrangements do).
    for issue in made:
        start = BANGKOK_MIDNIGHT + dt.timedelta(
            hours=rng.randrange(-30, 200), minutes=rng.choice([-1, 0, 7])
        )
        db.execute(
            update(Issue)
            .where(Issue.id == issue.id)
            .values(
                created_at=start,
                acknowledge_due_at=start + dt.timedelta(hours=rng.choice([1, 50, 500])),
                resolve_due_at=start + dt.timedelta(hours=rng.choice([10, 300, 3000])),
            )
        )
    db.commit()
    # Applied after the first reports: a new time zone rebuilds the rollups' days.
    db.add(
        City(
            names={"en": "Test"},
            default_language="en",
            time_zone=ZONE,
            general_category_code="general",
        )
    )
    db.commit()
    for issue in made:
        db.refresh(issue)
    for _ in range(70):
        issue = rng.choice(made)
        agent = staff[
            rng.choice([west.id, east.id]) if issue.agency_id is None else issue.agency_id
        ]
        move = rng.choice(
            [
                "claim",
                "claim",
                "start",
                "resolve",
                "resolve",
                "reopen",
                "close",
                "transfer",
                "merge",
                "hide",
            ]
        )
        if move == "claim" and issue.status == IssueStatus.open:
            apply_action(db, issue=issue, action=Action.claim, actor=agent)
        elif move == "start" and issue.status == IssueStatus.acknowledged:
            apply_action(db, issue=issue, action=Action.start, actor=agent)
        elif move == "resolve" and issue.status in (
            IssueStatus.acknowledged,
            IssueStatus.in_progress,
        ):
            apply_action(
                db, issue=issue, action=Action.resolve, actor=agent, resolution=Resolution.fixed
            )
        elif move == "reopen" and issue.status == IssueStatus.resolved:
            apply_action(db, issue=issue, action=Action.reopen, actor=reporter)
        elif move == "close" and issue.status == IssueStatus.resolved:
            apply_action(db, issue=issue, action=Action.close, actor=agent)
        elif (
            move == "transfer"
            and issue.status != IssueStatus.resolved
            and issue.status != IssueStatus.closed
        ):
            target = east.id if issue.agency_id == west.id else west.id
            apply_action(db, issue=issue, action=Action.transfer, actor=agent, to_agency_id=target)
        elif move == "merge" and issue.status == IssueStatus.open:
            into = next(
                (i for i in made if i.status == IssueStatus.open and i.id != issue.id), None
            )
            if into is not None:
                duplicates.merge(
                    db,
                    duplicate=issue,
                    into=into.public_id,
                    actor=admin,
                    note=None,
                    expected_version=None,
                )
        elif move == "hide":
            moderation.set_issue_hidden(
                db, issue=issue, actor=admin, hidden=issue.hidden_at is None, reason=None
            )
        db.commit()
    # An issue removed altogether, with what refers to it.
    gone = made[3]
    db.execute(delete(IssueEvent).where(IssueEvent.issue_id == gone.id))
    db.execute(delete(Support).where(Support.issue_id == gone.id))
    db.delete(gone)
    db.commit()


FILTERS = [
    IssueFilter(),
    IssueFilter(category_codes=("pothole",)),
    IssueFilter(district_codes=("west-side",), category_codes=("streetlight",)),
    IssueFilter(statuses=(IssueStatus.resolved, IssueStatus.acknowledged)),
    IssueFilter(
        created_after=BANGKOK_MIDNIGHT, created_before=BANGKOK_MIDNIGHT + dt.timedelta(days=4)
    ),
]


def _figures(scope: Scope, zone: Any) -> list[Any]:
    return [
        *(stats.counts(scope, by) for by in Dimension if by != Dimension.timeframe),
        *(stats.series(scope, e, p, zone) for e in Event for p in Period),
        *(stats.timings(scope, stage) for stage in Stage),
    ]


def _rows(db: Session, model: Any) -> set[tuple[Any, ...]]:
    table = model.__table__
    measures = [c for c in table.c if not c.primary_key]
    return {tuple(row) for row in db.execute(select(table).where(measures[0] + measures[1] != 0))}


async def test_rollups_equal_the_issue_table(
    db: Session, database: Database, client: httpx.AsyncClient
) -> None:
    _arrange(db, database.spatial)
    zone = rollups.zone(db)
    assert zone.key == ZONE
    story = db.execute(
        select(
            func.count().filter(Issue.resolved_at.is_not(None)),
            func.count().filter(Issue.reopen_count > 0),
            func.count().filter(Issue.duplicate_of_id.is_not(None)),
            func.count().filter(Issue.hidden_at.is_not(None)),
            func.count().filter(Issue.is_private),
            func.count(func.distinct(Issue.agency_id)),
        )
    ).one()
    assert all(story), story  # each kind of change happened
    for issue_filter in FILTERS:
        rolled = Scope(db, database.spatial, issue_filter)
        assert stats.cut(rolled) is not None, issue_filter
        raw = Scope(db, database.spatial, issue_filter, use_rollups=False)
        assert _figures(rolled, zone) == _figures(raw, zone), issue_filter
    # Over HTTP too, where the figures are the rollups'.
    body = (await client.get("/api/v1/stats/timings/resolve")).json()
    assert (
        body["count"]
        == stats.timings(
            Scope(db, database.spatial, IssueFilter(), use_rollups=False), Stage.resolve
        )["count"]
        > 0
    )
    # Kept step by step, they are what a rebuild from scratch finds.
    kept = {m: _rows(db, m) for m in (IssueDayRollup, IssueDurationRollup)}
    assert rollups.rebuild(db) == 23
    assert kept == {m: _rows(db, m) for m in (IssueDayRollup, IssueDurationRollup)}
    db.rollback()


def test_filters_the_rollups_do_not_hold_read_the_issue_table(
    db: Session, database: Database
) -> None:
    for issue_filter in (
        IssueFilter(created_after=BANGKOK_MIDNIGHT + dt.timedelta(hours=1)),
        IssueFilter(text="lamp"),
        IssueFilter(flags=(Flag.safety_hazard,)),
    ):
        assert stats.cut(Scope(db, database.spatial, issue_filter)) is None
