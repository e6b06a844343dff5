"""Public KPIs: without login, each figure equal to its hand computation on a small city, per
group with small groups suppressed (k = 5), as JSON and as spreadsheet-safe CSV, each with a
published definition."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from app.db import Database
from app.models import (
    Agency,
    Answer,
    EventAction,
    Flag,
    Issue,
    IssueEvent,
    IssueFeedback,
    IssueStatus,
    Resolution,
    Review,
    User,
    issue_flag,
)
from app.services.kpis import CODES
from tests.factories import (
    IN_WEST,
    WEST_DISTRICT,
    make_agency,
    make_category,
    make_district,
    make_issue,
    make_user,
)

T0 = dt.datetime(2026, 11, 2, 0, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)


def _set(db: Session, issue: Issue, **values: Any) -> None:
    db.execute(update(Issue).where(Issue.id == issue.id).values(**values))


def _event(db: Session, issue: Issue, action: EventAction, agency_id: int) -> None:
    db.add(
        IssueEvent(
            issue_id=issue.id,
            action=action,
            actor_role="agent",
            to_status=IssueStatus.acknowledged,
            to_agency_id=agency_id,
        )
    )


def _answer(
    db: Session, issue: Issue, reporter: User, answer: Answer, rating: int, at: dt.datetime
) -> None:
    db.add(
        IssueFeedback(
            issue_id=issue.id, reporter_id=reporter.id, resolved_at=at, answer=answer, rating=rating
        )
    )


@pytest.fixture
def city(db: Session, database: Database) -> dict[str, Any]:
    """Five public pothole reports (and a private one, and one street-light report), all
    reported at T0 with targets of 24 h to acknowledge and 120 h to resolve:

    1 acknowledged +2 h, resolved +10 h, rated 5 "fixed"
    2 acknowledged +4 h, reopened once, resolved again +130 h (late), rated 2 "not fixed"
    3 acknowledged +30 h (late), then transferred to the east agency
    4 waiting
    5 acknowledged +6 h, merged into 1 as its duplicate at +20 h
    """
    pothole = make_category(db, "pothole", acknowledge_hours=24, resolve_hours=120)
    light = make_category(db, "streetlight")
    west = make_agency(db, categories=[pothole, light], slug="west")
    east = make_agency(db, categories=[pothole], slug="east")
    make_district(db, "bang-rak", WEST_DISTRICT)
    reporter = make_user(db)
    made = [
        make_issue(db, database.spatial, reporter=reporter, category=pothole, at=IN_WEST)
        for _ in range(6)
    ]
    i1, i2, i3, i4, i5, private = made
    due = {"acknowledge_due_at": T0 + 24 * H, "resolve_due_at": T0 + 120 * H}
    for issue in made:
        _set(db, issue, created_at=T0, agency_id=west.id, **due)
    resolved = {"status": IssueStatus.resolved}
    _set(
        db,
        i1,
        acknowledged_at=T0 + 2 * H,
        resolved_at=T0 + 10 * H,
        resolution=Resolution.fixed,
        **resolved,
    )
    _set(
        db,
        i2,
        acknowledged_at=T0 + 4 * H,
        resolved_at=T0 + 130 * H,
        resolution=Resolution.fixed,
        reopen_count=1,
        **resolved,
    )
    _set(db, i3, acknowledged_at=T0 + 30 * H, agency_id=east.id)
    _set(db, i4, agency_id=None)
    _set(
        db,
        i5,
        acknowledged_at=T0 + 6 * H,
        resolved_at=T0 + 20 * H,
        resolution=Resolution.duplicate,
        duplicate_of_id=i1.id,
        **resolved,
    )
    _set(db, private, acknowledged_at=T0 + H, is_private=True)
    for issue in (i1, i2, i3, i5, private):
        _event(db, issue, EventAction.claimed, west.id)
    _event(db, i3, EventAction.transferred, east.id)
    _answer(db, i1, reporter, Answer.fixed, 5, T0 + 10 * H)
    _answer(db, i2, reporter, Answer.not_fixed, 2, T0 + 50 * H)
    lamp = make_issue(db, database.spatial, reporter=reporter, category=light, at=IN_WEST)
    _set(db, lamp, created_at=T0 + 240 * H)
    db.commit()
    return {"west": west, "east": east, "pothole": pothole, "reporter": reporter}


# Worked by hand from the docstring above.
EXPECTED = {
    "suppressed": False,
    "issues": 5,
    "acknowledge_median_hours": 5.0,  # of 2, 4, 6, 30
    "acknowledge_p90_hours": 22.8,  # 6 + 0.7 * (30 - 6)
    "resolve_median_hours": 70.0,  # of 10, 130 (the duplicate left out)
    "resolve_p90_hours": 118.0,  # 10 + 0.9 * 120
    "acknowledge_on_time": 0.75,  # 3 of 4
    "resolve_on_time": 0.5,  # 1 of 2
    "reopen_rate": 1 / 3,  # 2 of 1, 2, 5 (ever resolved)
    "forwarding_rate": 0.2,  # 3 of 5
    "agencies_per_issue": 1.25,  # 1, 1, 2, 1
    "first_contact_resolution": 0.5,  # 1 of 1, 2
    "repeat_contact_rate": 0.5,  # 5 merged, per 1, 2
    "satisfaction_stars": 3.5,  # 5, 2
    "satisfaction_fixed": 0.5,  # fixed, not fixed
    "loop_closure": 2 / 3,  # 1, 2 answered of 1, 2, 5
}
PERIOD = {"since": "2026-11-01T00:00:00+07:00", "until": "2026-11-03T00:00:00Z"}


def close_to(found: dict[str, Any], expected: dict[str, Any]) -> None:
    assert set(expected) <= set(found)
    for code, value in expected.items():
        if isinstance(value, float):
            assert found[code] == pytest.approx(value, abs=1e-6), code
        else:
            assert found[code] == value, code


@pytest.mark.usefixtures("city")
async def test_every_figure_equals_its_hand_computation_without_login(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/v1/kpis", params=PERIOD)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["k"] == 5
    close_to(body["overall"], EXPECTED)
    # The same, named by category, agency-less filters or not.
    by_code = await client.get("/api/v1/kpis", params={"category": "pothole"})
    close_to(by_code.json()["overall"], EXPECTED)


@pytest.mark.usefixtures("city")
async def test_groups_under_five_issues_are_suppressed(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/v1/kpis", params={"by": "category"})).json()
    groups = {g["category"]["code"]: g for g in body["groups"]}
    close_to(groups["pothole"], EXPECTED)
    assert groups["streetlight"]["suppressed"] is True
    lamp = groups["streetlight"]
    assert {k: v for k, v in lamp.items() if k not in ("category", "suppressed")} == dict.fromkeys(
        CODES
    )
    # Six public issues in all now: still one figure about them, nothing about the lamp alone.
    assert body["overall"]["issues"] == 6
    by_agency = (await client.get("/api/v1/kpis", params={"by": "agency", **PERIOD})).json()
    agencies = {g["agency"]["code"]: g for g in by_agency["groups"]}
    # West holds 1, 2, 5; east 3; 4 is unclaimed: every group is under five.
    assert {code: g["suppressed"] for code, g in agencies.items()} == {
        None: True,
        "east": True,
        "west": True,
    }
    by_district = (await client.get("/api/v1/kpis", params={"by": "district", **PERIOD})).json()
    [district] = by_district["groups"]
    assert district["district"]["code"] == "bang-rak"
    close_to(district, EXPECTED)


@pytest.mark.usefixtures("city")
async def test_the_csv_download_has_the_same_figures_and_is_spreadsheet_safe(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/v1/kpis.csv", params={"by": "category", **PERIOD})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == ["group_by", "code", "name_th", "name_en", "suppressed", *CODES]
    overall, pothole = rows
    assert (overall["group_by"], pothole["group_by"], pothole["code"]) == (
        "",
        "category",
        "pothole",
    )
    assert float(pothole["acknowledge_p90_hours"]) == pytest.approx(22.8)
    assert pothole["suppressed"] == "False"


async def test_a_name_that_would_run_as_a_formula_is_neutralised(
    db: Session, database: Database, client: httpx.AsyncClient
) -> None:
    category = make_category(db, "hole")
    category.name_en = '=HYPERLINK("http://evil.example")'
    db.commit()
    make_agency(db, categories=[category])
    reporter = make_user(db)
    for _ in range(5):
        make_issue(db, database.spatial, reporter=reporter, category=category)
    rows = list(
        csv.DictReader(
            io.StringIO((await client.get("/api/v1/kpis.csv", params={"by": "category"})).text)
        )
    )
    assert rows[1]["name_en"] == '\'=HYPERLINK("http://evil.example")'


async def test_every_kpi_has_a_published_definition(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/v1/kpis/definitions")).json()
    assert body["k"] == 5
    assert [d["code"] for d in body["kpis"]] == CODES
    for definition in body["kpis"]:
        assert all(definition[field] for field in ("name", "formula", "unit", "population"))
        assert "exclusions" in definition
    figures = (await client.get("/api/v1/kpis")).json()["overall"]
    assert set(figures) == {"suppressed", *CODES}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"category": "no-such"}, "query.category"),
        ({"agency": "no-such"}, "query.agency"),
        ({"district": "no-such"}, "query.district"),
        ({"since": "2026-11-01T00:00:00"}, "query.since"),
        ({"by": "reporter"}, "query.by"),
    ],
)
async def test_bad_filters_get_a_problem_naming_the_field(
    client: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    response = await client.get("/api/v1/kpis", params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in [e["location"] for e in response.json()["errors"]]


async def test_segments_are_aggregates_with_small_ones_suppressed(
    db: Session, city: dict[str, Any], client: httpx.AsyncClient
) -> None:
    public = db.scalars(
        select(Issue.id).where(Issue.is_private.is_(False), Issue.created_at == T0)
    ).all()
    db.execute(
        insert(issue_flag),
        [{"issue_id": i, "flag": Flag.vulnerable_people_affected} for i in public]
        + [{"issue_id": i, "flag": Flag.accessibility} for i in public[:4]],
    )
    db.commit()
    vulnerable = await client.get("/api/v1/kpis", params={"segment": "vulnerable_people_affected"})
    close_to(vulnerable.json()["overall"], EXPECTED)
    disabled = await client.get("/api/v1/kpis", params={"segment": "accessibility"})
    assert disabled.json()["overall"] == {"suppressed": True, **dict.fromkeys(CODES)}


async def test_only_published_reports_are_counted(
    db: Session, database: Database, city: dict[str, Any], client: httpx.AsyncClient
) -> None:
    """Reports awaiting triage, rejected in it or hidden by moderation are on no public surface,
    so no public figure counts them either: the hand computation stands unchanged."""
    unpublished: list[dict[str, Any]] = [
        {"review": Review.pending},
        {"review": Review.rejected, "status": IssueStatus.closed},
        {"hidden_at": T0 + H},
    ]
    for values in unpublished:
        issue = make_issue(
            db, database.spatial, reporter=city["reporter"], category=city["pothole"]
        )
        due = {"acknowledge_due_at": T0 + 24 * H, "resolve_due_at": T0 + 120 * H}
        _set(db, issue, created_at=T0, agency_id=city["west"].id, **due, **values)
        _set(db, issue, acknowledged_at=T0 + 100 * H)  # would move every acknowledge figure
    db.execute(
        insert(issue_flag),
        [
            {"issue_id": i, "flag": Flag.vulnerable_people_affected}
            for i in db.scalars(select(Issue.id).where(Issue.created_at == T0))
        ],
    )
    db.commit()
    close_to((await client.get("/api/v1/kpis", params=PERIOD)).json()["overall"], EXPECTED)
    segment = {"segment": "vulnerable_people_affected", **PERIOD}
    close_to((await client.get("/api/v1/kpis", params=segment)).json()["overall"], EXPECTED)
    definitions = (await client.get("/api/v1/kpis/definitions")).json()["kpis"]
    for definition in definitions:
        assert "private reports" in definition["exclusions"], definition["code"]
        assert "awaiting triage" in definition["exclusions"], definition["code"]
        assert "hidden by moderation" in definition["exclusions"], definition["code"]


def _segment_city(db: Session, database: Database, sizes: dict[str, int]) -> Agency:
    """Reports affecting disabled people (the categories carry the accessibility flag), so
    many per category; one agency handles them all."""
    categories = {code: make_category(db, code, flags=["accessibility"]) for code in sizes}
    agency = make_agency(db, categories=list(categories.values()), slug="west")
    reporter = make_user(db)
    for code, size in sizes.items():
        for _ in range(size):
            make_issue(db, database.spatial, reporter=reporter, category=categories[code])
    return agency


def _published(body: dict[str, Any]) -> dict[str, int | None]:
    return {g["category"]["code"]: g["issues"] for g in body["groups"]}


async def test_a_small_segment_group_cannot_be_recovered_from_the_total(
    db: Session, database: Database, client: httpx.AsyncClient
) -> None:
    _segment_city(db, database, {"ramp": 7, "footpath": 2, "crossing": 9})
    params = {"segment": "accessibility", "by": "category"}
    body = (await client.get("/api/v1/kpis", params=params)).json()
    assert body["overall"]["issues"] == 18
    # Footpath alone is under five; publishing ramp (7) and crossing (9) would give it away as
    # 18 - 7 - 9 = 2. The next smallest, ramp, is withheld with it; 9 of 18 tells neither.
    assert _published(body) == {"crossing": 9, "footpath": None, "ramp": None}
    ramp = next(g for g in body["groups"] if g["category"]["code"] == "ramp")
    assert ramp == {"category": ramp["category"], "suppressed": True, **dict.fromkeys(CODES)}
    # The same issues outside a segment are counted per category in public anyway.
    everyone = (await client.get("/api/v1/kpis", params={"by": "category"})).json()
    assert _published(everyone) == {"crossing": 9, "footpath": None, "ramp": 7}


async def test_small_segment_groups_that_together_reach_k_leave_the_rest_published(
    db: Session, database: Database, client: httpx.AsyncClient
) -> None:
    _segment_city(db, database, {"ramp": 7, "footpath": 2, "crossing": 3})
    params = {"segment": "accessibility", "by": "category"}
    body = (await client.get("/api/v1/kpis", params=params)).json()
    # 12 - 7 = 5 is footpath and crossing together, a group of five: neither is told apart.
    assert _published(body) == {"crossing": None, "footpath": None, "ramp": 7}


async def test_two_small_segment_groups_under_k_together_are_joined_by_the_next(
    db: Session, database: Database, client: httpx.AsyncClient
) -> None:
    _segment_city(db, database, {"ramp": 6, "footpath": 1, "crossing": 2, "kerb": 8})
    params = {"segment": "accessibility", "by": "category"}
    body = (await client.get("/api/v1/kpis", params=params)).json()
    # Footpath and crossing hold three together (17 - 6 - 8): ramp, the smallest left, joins.
    assert _published(body) == {"crossing": None, "footpath": None, "kerb": 8, "ramp": None}
