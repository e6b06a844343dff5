"""Segments and priority: flags (the category's and the reporter's) raise an issue's priority by
rules admins keep in the database, and the priority scales the category's targets."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import PriorityRules
from tests.factories import IN_WEST, bearer, make_agency, make_category
from tests.lifecycle.helpers import City, problem_type, stored_count, stored_issue

RULES = "/api/v1/priority-rules"
DEVICE = {"X-Device-Id": "5b0c8f9e-1d2a-4e3b-8c7d-6a5f4e3d2c1b"}
VALID: dict[str, Any] = {
    "flag_priority": {"accessibility": "urgent", "safety_hazard": "high"},
    "target_factor": {"urgent": 0.1, "high": 0.5, "normal": 1, "low": 2},
    "at_risk_percent": 60,
}


def report_body(category: str, **extra: Any) -> dict[str, Any]:
    return {
        "category": category,
        "title": "Ramp blocked by a cart",
        "latitude": IN_WEST[1],
        "longitude": IN_WEST[0],
        **extra,
    }


def hours_after_report(body: dict[str, Any], field: str) -> float:
    delta = dt.datetime.fromisoformat(body[field]) - dt.datetime.fromisoformat(body["created_at"])
    return delta.total_seconds() / 3600


async def test_the_built_in_rules_apply_until_an_admin_saves_others(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(RULES)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "flag_priority": {
            "accessibility": "high",
            "vulnerable_people_affected": "high",
            "safety_hazard": "urgent",
        },
        "target_factor": {"urgent": 0.25, "high": 0.5, "normal": 1.0, "low": 1.5},
        "at_risk_percent": 75,
        "updated_at": None,
    }


async def test_a_reported_flag_and_the_categorys_defaults_raise_priority_and_shorten_targets(
    client: httpx.AsyncClient, db: Session, city: City
) -> None:
    ramp = make_category(
        db, "ramp", acknowledge_hours=12, resolve_hours=72, flags=["accessibility"]
    )
    make_agency(db, categories=[ramp])
    plain = await client.post("/api/v1/issues", headers=DEVICE, json=report_body("pothole"))
    assert plain.status_code == 201, plain.text
    assert (plain.json()["priority"], plain.json()["flags"]) == ("normal", [])
    assert hours_after_report(plain.json(), "acknowledge_due_at") == 24  # the category's target

    ramp_report = await client.post("/api/v1/issues", headers=DEVICE, json=report_body("ramp"))
    body = ramp_report.json()
    assert (body["priority"], body["flags"]) == ("high", ["accessibility"])
    assert hours_after_report(body, "acknowledge_due_at") == 6  # 12 h x 0.5
    assert hours_after_report(body, "resolve_due_at") == 36

    # What the reporter states joins the category's defaults; the highest rule wins.
    hazard = await client.post(
        "/api/v1/issues",
        headers=DEVICE,
        json=report_body("ramp", flags=["safety_hazard", "accessibility"]),
    )
    body = hazard.json()
    assert (body["priority"], body["flags"]) == ("urgent", ["accessibility", "safety_hazard"])
    assert hours_after_report(body, "resolve_due_at") == 18  # 72 h x 0.25


async def test_a_multipart_report_carries_its_flags_too(
    client: httpx.AsyncClient, city: City
) -> None:
    response = await client.post(
        "/api/v1/issues",
        headers=DEVICE,
        files=[
            (
                "issue",
                (None, json.dumps(report_body("pothole", flags=["vulnerable_people_affected"]))),
            )
        ],
    )
    assert response.status_code == 201, response.text
    assert response.json()["flags"] == ["vulnerable_people_affected"]
    assert response.json()["priority"] == "high"


async def test_an_admin_changes_the_rules_and_new_reports_follow_them(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    before = await client.post(
        "/api/v1/issues", headers=DEVICE, json=report_body("pothole", flags=["accessibility"])
    )
    saved = await client.put(RULES, headers=bearer(settings, city.admin), json=VALID)
    assert saved.status_code == 200, saved.text
    assert saved.json()["at_risk_percent"] == 60
    assert saved.json()["updated_at"] is not None
    assert (await client.get(RULES)).json()["flag_priority"] == VALID["flag_priority"]

    after = await client.post(
        "/api/v1/issues", headers=DEVICE, json=report_body("pothole", flags=["accessibility"])
    )
    assert after.json()["priority"] == "urgent"
    assert hours_after_report(after.json(), "acknowledge_due_at") == pytest.approx(2.4)
    # A rule left out raises nothing now.
    vulnerable = await client.post(
        "/api/v1/issues",
        headers=DEVICE,
        json=report_body("pothole", flags=["vulnerable_people_affected"]),
    )
    assert vulnerable.json()["priority"] == "normal"
    # Issues already reported keep their deadlines.
    kept = stored_issue(database, before.json()["id"])
    assert kept.acknowledge_due_at.isoformat() == before.json()["acknowledge_due_at"].replace(
        "Z", "+00:00"
    )


@pytest.mark.parametrize("who", ["reporter", "agent", "anonymous"])
async def test_only_admins_change_the_rules(
    client: httpx.AsyncClient, settings: Settings, database: Database, city: City, who: str
) -> None:
    headers = {} if who == "anonymous" else bearer(settings, getattr(city, who))
    response = await client.put(RULES, headers=headers, json=VALID)
    assert response.status_code == (401 if who == "anonymous" else 403), response.text
    assert stored_count(database, PriorityRules) == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"flag_priority": {"wheelchair": "high"}}, "flag_priority"),
        ({"flag_priority": {"accessibility": "critical"}}, "flag_priority"),
        ({"target_factor": {**VALID["target_factor"], "soon": 1}}, "target_factor"),
        ({"target_factor": {**VALID["target_factor"], "high": 0}}, "target_factor"),
        ({"target_factor": {**VALID["target_factor"], "low": -1}}, "target_factor"),
        ({"target_factor": {**VALID["target_factor"], "low": 1e308}}, "target_factor"),
        ({"target_factor": {"urgent": 0.5, "high": 0.5, "normal": 1}}, ""),
        ({"target_factor": {"urgent": 2, "high": 0.5, "normal": 1, "low": 1.5}}, ""),
        ({"at_risk_percent": 0}, "at_risk_percent"),
        ({"at_risk_percent": 100}, "at_risk_percent"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_bad_rules_are_refused_and_nothing_is_saved(
    client: httpx.AsyncClient,
    settings: Settings,
    database: Database,
    city: City,
    change: dict[str, Any],
    field: str,
) -> None:
    response = await client.put(
        RULES, headers=bearer(settings, city.admin), json={**VALID, **change}
    )
    assert response.status_code == 422, response.text
    assert problem_type(response) == "validation-failed"
    assert any(field in e["location"] for e in response.json()["errors"]), response.text
    assert stored_count(database, PriorityRules) == 0


async def test_an_unknown_flag_in_a_report_is_refused(
    client: httpx.AsyncClient, database: Database, city: City
) -> None:
    response = await client.post(
        "/api/v1/issues", headers=DEVICE, json=report_body("pothole", flags=["wheelchair"])
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["location"] == "body.flags.0"
