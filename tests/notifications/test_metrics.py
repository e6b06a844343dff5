"""The loop, measured by the database, against expectations worked out by hand."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import Answer, EventAction, Issue, IssueEvent, IssueFeedback, Notification
from tests.factories import bearer, make_category, make_issue
from tests.lifecycle.helpers import City, act, drive, report

T0 = dt.datetime(2026, 11, 2, 0, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def _at(hours: float | None) -> dt.datetime | None:
    return None if hours is None else T0 + hours * HOUR


def set_times(
    database: Database, issue_id: str, *, ack: float | None, resolved: float | None
) -> None:
    """Reported at T0 with due dates T0+24h (acknowledge) and T0+120h (resolve)."""
    with database.session(write=True) as session, session.begin():
        session.execute(
            update(Issue)
            .where(Issue.public_id == issue_id)
            .values(
                created_at=T0,
                acknowledge_due_at=T0 + 24 * HOUR,
                resolve_due_at=T0 + 120 * HOUR,
                acknowledged_at=_at(ack),
                resolved_at=_at(resolved),
            )
        )


def tell_reporter_it_closed(database: Database, issue_id: str) -> None:
    with database.session(write=True) as session, session.begin():
        closing = session.scalar(
            select(Notification.id)
            .join(Issue, Issue.id == Notification.issue_id)
            .join(IssueEvent, IssueEvent.id == Notification.event_id)
            .where(
                Issue.public_id == issue_id,
                Notification.recipient_user_id == Issue.reporter_id,
                IssueEvent.action == EventAction.closed,
            )
        )
        assert closing is not None
        session.execute(
            update(Notification).where(Notification.id == closing).values(status="sent")
        )


@pytest.fixture
async def measured_city(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> City:
    """Five west issues (A-E; E unclaimed in the queues of west and metro), one of metro's (F)
    and an unrouted graffiti report (G).

    | issue | acknowledged | resolved | now         | reopened | told of close | answer   |
    | A     | +2h          | +10h     | closed      |          | yes           | fixed, 5 |
    | B     | +4h          | +30h     | closed      |          | no (pending)  | rating 3 |
    | C     | +30h (late)  | +200h    | resolved    | once     |               |          |
    | D     | +6h          |          | in progress |          |               |          |
    | E     |              |          | open        |          |               |          |
    """
    a, b, c, d, e, f = (report(db, database, city) for _ in range(6))
    await drive(client, settings, city.agent, a, "closed")
    await drive(client, settings, city.agent, b, "closed")
    await drive(client, settings, city.agent, c, "resolved")
    assert (await act(client, settings, city.reporter, c, "reopen", note="no")).status_code == 200
    assert (
        await act(client, settings, city.agent, c, "resolve", resolution="fixed")
    ).status_code == 200
    await drive(client, settings, city.agent, d, "in_progress")
    await drive(client, settings, city.rival, f, "acknowledged")
    graffiti = make_category(db, "graffiti")
    make_issue(db, database.spatial, reporter=city.reporter, category=graffiti)
    for issue_id, ack, resolved in (
        (a, 2, 10),
        (b, 4, 30),
        (c, 30, 200),
        (d, 6, None),
        (e, None, None),
        (f, 100, None),
    ):
        set_times(database, issue_id, ack=ack, resolved=resolved)
    tell_reporter_it_closed(database, a)
    with database.session(write=True) as session, session.begin():
        ids = dict(session.execute(select(Issue.public_id, Issue.id)).all())
        session.add_all(
            [
                IssueFeedback(
                    issue_id=ids[a],
                    reporter_id=city.reporter.id,
                    resolved_at=T0 + 10 * HOUR,
                    answer=Answer.fixed,
                    rating=5,
                ),
                IssueFeedback(
                    issue_id=ids[b],
                    reporter_id=city.reporter.id,
                    resolved_at=T0 + 30 * HOUR,
                    rating=3,
                ),
            ]
        )
    return city


async def test_an_agencys_loop_metrics(
    client: httpx.AsyncClient, settings: Settings, measured_city: City
) -> None:
    city = measured_city
    response = await client.get(
        f"/api/v1/metrics/loop?agency={city.west.id}&category=pothole"
        "&since=2026-11-01T00:00:00Z&until=2026-12-01T00:00:00Z",
        headers=bearer(settings, city.admin),
    )
    assert response.status_code == 200, response.text
    m = response.json()
    assert (m["issues"], m["acknowledged"], m["resolved"], m["closed"]) == (5, 4, 3, 2)
    # Acknowledged after 2, 4, 6, 30 h: median (4+6)/2 = 5 h; p90 at rank 0.9*3 = 2.7 of the
    # sorted list: 6 + 0.7*(30-6) = 22.8 h; 3 of 4 within their 24 h.
    assert m["acknowledge"]["median_seconds"] == pytest.approx(5 * 3600, abs=1)
    assert m["acknowledge"]["p90_seconds"] == pytest.approx(22.8 * 3600, abs=1)
    assert m["acknowledge"]["within_target"] == pytest.approx(0.75)
    # Resolved after 10, 30, 200 h: median 30 h; p90 at rank 1.8: 30 + 0.8*170 = 166 h; 2 of 3
    # within 120 h.
    assert m["resolve"]["median_seconds"] == pytest.approx(30 * 3600, abs=1)
    assert m["resolve"]["p90_seconds"] == pytest.approx(166 * 3600, abs=1)
    assert m["resolve"]["within_target"] == pytest.approx(2 / 3)
    # A's reporter got the closing message, B's is still pending: 1 of 2 closed loops.
    assert m["loop_closure_rate"] == pytest.approx(0.5)
    # Resolved at least once: A, B, C. C was reopened; A's reporter confirmed.
    assert m["reopen_rate"] == pytest.approx(1 / 3)
    assert m["confirmation_rate"] == pytest.approx(1 / 3)
    assert (m["average_satisfaction"], m["ratings"]) == (pytest.approx(4.0), 2)


async def test_filters_narrow_the_population(
    client: httpx.AsyncClient, settings: Settings, measured_city: City
) -> None:
    admin = bearer(settings, measured_city.admin)

    async def metrics(query: str) -> dict[str, object]:
        response = await client.get(f"/api/v1/metrics/loop{query}", headers=admin)
        assert response.status_code == 200, response.text
        body: dict[str, object] = response.json()
        return body

    everything = await metrics("")
    assert (everything["issues"], everything["acknowledged"]) == (7, 5)
    assert (await metrics("?category=graffiti"))["issues"] == 1
    # Metro holds F, and E still waits in its queue as well as west's.
    assert (await metrics(f"?agency={measured_city.metro.id}"))["issues"] == 2
    empty = await metrics("?since=2026-11-02T00:00:01Z&category=pothole")
    assert empty["issues"] == 0
    assert empty["loop_closure_rate"] is None
    assert empty["acknowledge"] == {
        "median_seconds": None,
        "p90_seconds": None,
        "within_target": None,
    }


async def test_staff_see_their_own_agency_and_citizens_none(
    client: httpx.AsyncClient, settings: Settings, measured_city: City
) -> None:
    city = measured_city
    own = await client.get("/api/v1/metrics/loop", headers=bearer(settings, city.agent))
    assert own.json()["issues"] == 5
    other = await client.get(
        f"/api/v1/metrics/loop?agency={city.metro.id}", headers=bearer(settings, city.agent)
    )
    assert other.status_code == 403
    assert (
        await client.get("/api/v1/metrics/loop", headers=bearer(settings, city.reporter))
    ).status_code == 403
    assert (await client.get("/api/v1/metrics/loop")).status_code == 401
    unknown = await client.get(
        "/api/v1/metrics/loop?category=nope", headers=bearer(settings, city.admin)
    )
    assert unknown.status_code == 422
