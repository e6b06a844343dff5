"""What the citizen sees of an issue's time frame: the next step and when it is due, the
expected resolution, and on_track / at_risk / late, or met / missed and by how much. One SQL
expression decides it for single reads, statistics and exports alike."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import Issue
from app.services import timeframes
from tests.factories import bearer
from tests.lifecycle.helpers import City, act, drive, report

H = dt.timedelta(hours=1)


def backdate(db: Session, issue_id: str, by: dt.timedelta, *, keep: tuple[str, ...] = ()) -> None:
    """Move the report and every time since (but `keep`) into the past, as if it all happened
    `by` earlier."""
    issue = db.scalars(select(Issue).where(Issue.public_id == issue_id)).one()
    db.refresh(issue)
    moved = {
        name: getattr(issue, name) - by
        for name in (
            "created_at",
            "acknowledge_due_at",
            "resolve_due_at",
            "acknowledged_at",
            "started_at",
            "resolved_at",
        )
        if getattr(issue, name) is not None and name not in keep
    }
    db.execute(update(Issue).where(Issue.id == issue.id).values(**moved))
    db.commit()


async def frame(client: httpx.AsyncClient, issue_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/issues/{issue_id}/timeframe")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    # A single read shows the same time frame.
    assert (await client.get(f"/api/v1/issues/{issue_id}")).json()["timeframe"] == body
    return body


async def test_an_open_issue_goes_from_on_track_to_at_risk_to_late(
    client: httpx.AsyncClient, database: Database, db: Session, city: City
) -> None:
    issue_id = report(db, database, city)  # pothole: acknowledge within 24 h
    fresh = await frame(client, issue_id)
    assert fresh["state"] == "on_track"
    assert fresh["next_step"] == "acknowledge"
    assert fresh["next_step_due_at"] == fresh["acknowledge_due_at"]
    assert fresh["resolution_punctuality"] is None

    backdate(db, issue_id, 17 * H)  # 71 % of the window: not yet at risk (75 %)
    assert (await frame(client, issue_id))["state"] == "on_track"
    backdate(db, issue_id, 2 * H)  # 79 %
    assert (await frame(client, issue_id))["state"] == "at_risk"
    backdate(db, issue_id, 6 * H)  # 25 h: past the acknowledgement deadline
    assert (await frame(client, issue_id))["state"] == "late"


async def test_once_claimed_the_resolution_deadline_is_the_one_watched(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    issue_id = report(db, database, city)
    backdate(db, issue_id, 30 * H)
    assert (await frame(client, issue_id))["state"] == "late"
    assert (await act(client, settings, city.agent, issue_id, "claim")).status_code == 200
    claimed = await frame(client, issue_id)
    # 30 h of the 120 h to resolve: on track again, late acknowledgement notwithstanding.
    assert (claimed["state"], claimed["next_step"]) == ("on_track", "resolve")
    assert claimed["next_step_due_at"] == claimed["expected_datetime"]
    backdate(db, issue_id, 65 * H)  # 95 h of 120 h
    assert (await frame(client, issue_id))["state"] == "at_risk"


async def test_the_at_risk_share_is_the_admins_to_set(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    issue_id = report(db, database, city)
    backdate(db, issue_id, 6 * H)  # a quarter of the window
    assert (await frame(client, issue_id))["state"] == "on_track"
    rules = (await client.get("/api/v1/priority-rules")).json()
    del rules["updated_at"]
    response = await client.put(
        "/api/v1/priority-rules",
        headers=bearer(settings, city.admin),
        json={**rules, "at_risk_percent": 25},
    )
    assert response.status_code == 200, response.text
    assert (await frame(client, issue_id))["state"] == "at_risk"


async def test_a_resolved_issue_says_met_or_missed_and_by_how_much(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    early_id, late_id = report(db, database, city), report(db, database, city)
    for issue_id in (early_id, late_id):
        await drive(client, settings, city.agent, issue_id, "resolved")
    # Resolved now: 20 h before the 120 h deadline, and 10 h after it.
    backdate(db, early_id, 100 * H, keep=("resolved_at",))
    backdate(db, late_id, 130 * H, keep=("resolved_at",))
    early, late = await frame(client, early_id), await frame(client, late_id)
    assert (early["state"], early["next_step"], early["next_step_due_at"]) == ("met", None, None)
    assert early["resolution_punctuality"]["outcome"] == "early"
    assert abs(early["resolution_punctuality"]["by_hours"] - 20) < 0.01
    assert late["state"] == "missed"
    assert late["resolution_punctuality"]["outcome"] == "late"
    assert abs(late["resolution_punctuality"]["by_hours"] - 10) < 0.01


async def test_statistics_and_exports_count_the_same_states(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    on_track, at_risk, late = (report(db, database, city) for _ in range(3))
    backdate(db, at_risk, 20 * H)
    backdate(db, late, 30 * H)
    response = await client.get("/api/v1/stats/counts/timeframe")
    assert response.status_code == 200, response.text
    counts = {c["key"]: c["count"] for c in response.json()["counts"]}
    assert counts == {"on_track": 1, "at_risk": 1, "late": 1}
    export = await client.get("/api/v1/exports/issues.csv")
    assert export.status_code == 200, export.text
    rows = {r["id"]: r["timeframe"] for r in csv.DictReader(io.StringIO(export.text))}
    assert rows == {on_track: "on_track", at_risk: "at_risk", late: "late"}


async def test_work_queues_can_sort_by_the_deadline_of_the_step_each_issue_waits_for(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    waiting, claimed, resolved = (report(db, database, city) for _ in range(3))
    assert (await act(client, settings, city.agent, claimed, "claim")).status_code == 200
    await drive(client, settings, city.agent, resolved, "resolved")
    backdate(db, claimed, 110 * H)  # resolution due in 10 h: before `waiting`'s 24 h
    with database.session(write=False) as session:
        due = timeframes.current_due_at()
        order = list(
            session.execute(
                select(Issue.public_id, due).order_by(due.is_(None), due, Issue.id)
            ).all()
        )
    assert [row[0] for row in order] == [claimed, waiting, resolved]
    assert order[2][1] is None  # nothing is due once resolved
