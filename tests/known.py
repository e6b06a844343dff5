"""Four issues with known times (UTC), in a city on Bangkok time (UTC+7), for statistics and
exports whose expected values are worked out by hand (conftests import these fixtures)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import Issue, IssueStatus, Resolution
from tests.factories import (
    EAST_DISTRICT,
    IN_EAST,
    IN_WEST,
    OUTSIDE,
    WEST_DISTRICT,
    make_agency,
    make_category,
    make_district,
    make_issue,
    make_user,
)


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"timezone": "Asia/Bangkok"})


@dataclass(frozen=True)
class Known:
    ids: list[str]  # I1..I4


@pytest.fixture
def known(db: Session, database: Database) -> Known:
    """
    I1 pothole, west district, west agency: reported Mon 2026-03-02 08:30 Bangkok, acknowledged
       after 2 h, resolved after 30 h (on 03-03 14:30 Bangkok).
    I2 pothole, west district, west agency: reported Mon 2026-03-02 09:10 Bangkok, acknowledged
       after 30 h (target 24 h: late), resolved after 200 h (target 168 h: late; 03-10).
    I3 streetlight, east district, east agency: reported Wed 2026-03-04 01:00 Bangkok (still
       Tuesday in UTC), acknowledged after 60 min 30 s, not resolved.
    I4 streetlight, outside every district, unclaimed: reported Mon 2026-03-09 00:30 Bangkok
       (Sunday 03-08 in UTC), never acknowledged.
    """
    pothole = make_category(db, "pothole", acknowledge_hours=24, resolve_hours=168)
    light = make_category(db, "streetlight", acknowledge_hours=24, resolve_hours=120)
    west_d = make_district(db, "west-side", WEST_DISTRICT)
    make_district(db, "east-side", EAST_DISTRICT)
    west = make_agency(db, categories=[pothole, light], slug="west")
    east = make_agency(db, bounds=EAST_DISTRICT, categories=[light], slug="east")
    reporter = make_user(db)
    plan = [
        (pothole, IN_WEST, west, "2026-03-02T01:30:00", 2 * H, 30 * H),
        (pothole, IN_WEST, west, "2026-03-02T02:10:00", 30 * H, 200 * H),
        (light, IN_EAST, east, "2026-03-03T18:00:00", 60 * M + dt.timedelta(seconds=30), None),
        (light, OUTSIDE, None, "2026-03-08T17:30:00", None, None),
    ]
    ids = []
    for category, at, agency, created, ack, resolve in plan:
        issue = make_issue(db, database.spatial, reporter=reporter, category=category, at=at)
        start = utc(created)
        done = start + resolve if resolve else None
        status = (
            IssueStatus.resolved if done else IssueStatus.acknowledged if ack else IssueStatus.open
        )
        db.execute(
            update(Issue)
            .where(Issue.id == issue.id)
            .values(
                created_at=start,
                updated_at=done or (start + ack if ack else start),
                acknowledged_at=start + ack if ack else None,
                resolved_at=done,
                resolution=Resolution.fixed if done else None,
                status=status,
                agency_id=agency.id if agency else None,
                acknowledge_due_at=start + category.acknowledge_target_hours * H,
                resolve_due_at=start + category.resolve_target_hours * H,
            )
        )
        ids.append(issue.public_id)
    db.commit()
    assert west_d.id is not None
    return Known(ids)
