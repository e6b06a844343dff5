"""The demo city looks alive: weeks of residents' reports in every state, with timelines made by
the real services at their own moments, photos, "me too"s, follows, stars and a few late steps;
and loading it again adds nothing."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter

import httpx
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.demo import load_demo_city
from app.demo.history import load_demo_history
from app.models import (
    Follow,
    Issue,
    IssueEvent,
    IssueFeedback,
    IssueStatus,
    Notification,
    Photo,
    PhotoKind,
    Support,
)
from app.models.base import utcnow
from app.spatial import backend_for
from app.storage import store_for
from tests.factories import count

REPORTS = 120


def _load(db: Session, settings: Settings, reports: int = REPORTS) -> int:
    load_demo_city(db, password="demo-password-for-tests")
    made = load_demo_history(
        db,
        settings=settings,
        store=store_for(settings),
        spatial=backend_for(db.get_bind().engine),
        count=reports,
    )
    db.commit()
    return made


async def test_the_demo_city_has_weeks_of_history_in_every_state(
    db: Session, settings: Settings, client: httpx.AsyncClient
) -> None:
    assert _load(db, settings) == REPORTS
    now = utcnow()
    issues = list(db.scalars(select(Issue)))
    assert len(issues) == REPORTS
    statuses = Counter(i.status for i in issues)
    assert set(statuses) == set(IssueStatus), statuses
    assert all(n >= 5 for n in statuses.values()), statuses
    reopened = [i for i in issues if i.reopen_count > 0]
    assert reopened
    assert all(i.status in (IssueStatus.acknowledged, IssueStatus.in_progress) for i in reopened)
    # Spread over the city and the past weeks, never in the future.
    assert len({i.district_id for i in issues}) >= 30
    assert None not in {i.district_id for i in issues}
    assert len({i.category_id for i in issues}) >= 12
    reported = sorted(i.created_at for i in issues)
    assert now - reported[0] > dt.timedelta(days=21)
    assert reported[-1] < now
    # Each step came after the one before, as the services recorded it then.
    events: dict[int, list[IssueEvent]] = {}
    for event in db.scalars(select(IssueEvent).order_by(IssueEvent.id)):
        events.setdefault(event.issue_id, []).append(event)
    for issue in issues:
        times = [e.created_at for e in events[issue.id]]
        assert times == sorted(times), issue.public_id
        assert times[0] == issue.created_at
        assert times[-1] < now
    # Some steps were late against their time frame (reopened reports still open are, by now);
    # most were not.
    late = [
        i
        for i in issues
        if (i.acknowledged_at or now) > i.acknowledge_due_at
        or (i.resolved_at or now) > i.resolve_due_at
    ]
    assert 3 <= len(late) < REPORTS // 2
    # Residents back and follow each other's reports; answers come with stars and words.
    assert count(db, Support) > REPORTS // 10
    assert count(db, Follow) > REPORTS
    answers = list(db.scalars(select(IssueFeedback)))
    assert {a.answer for a in answers} == {"fixed", "not_fixed"}
    assert all(a.rating and a.comment for a in answers)
    # Demo residents have no address and demo staff none verified: nobody is mailed.
    assert count(db, Notification) == 0

    # What a newcomer sees over the API: photos that decode, time frames, KPIs.
    kinds = {p.kind for p in db.scalars(select(Photo))}
    assert kinds == {PhotoKind.report, PhotoKind.resolution}
    photo = db.scalars(select(Photo).order_by(Photo.id)).first()
    assert photo is not None
    picture = await client.get(f"/api/v1/photos/{photo.id}/display")
    assert picture.status_code == 200, picture.text
    assert Image.open(io.BytesIO(picture.content)).size[0] > 100
    states = set()
    for issue in (i for i in issues if i.status == IssueStatus.open):
        read = await client.get(f"/api/v1/issues/{issue.public_id}")
        assert read.status_code == 200, read.text
        states.add(read.json()["timeframe"]["state"])
    assert "late" in states
    assert states - {"late"}
    kpis = (await client.get("/api/v1/kpis")).json()["overall"]
    assert kpis["issues"] == REPORTS
    for code in (
        "acknowledge_median_hours",
        "acknowledge_on_time",
        "reopen_rate",
        "forwarding_rate",
        "first_contact_resolution",
    ):
        assert kpis[code] is not None, code
    assert 0 < kpis["acknowledge_on_time"] < 1
    assert kpis["forwarding_rate"] > 0


def test_loading_the_demo_again_adds_nothing(db: Session, settings: Settings) -> None:
    assert _load(db, settings, reports=20) == 20
    before = {model: count(db, model) for model in (Issue, IssueEvent, Photo, Support, Follow)}
    assert _load(db, settings, reports=20) == 0
    assert {model: count(db, model) for model in before} == before
