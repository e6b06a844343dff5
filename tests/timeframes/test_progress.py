"""The progress view: every step of an issue's life (done, current, upcoming or skipped), when
it happened, its deadline and how early or late it was, each reopening, the step it is in now;
labelled in Thai or English."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from tests.lifecycle.helpers import City, act, drive, report, stored_issue

STEPS = ["reported", "acknowledged", "in_progress", "resolved", "closed"]


async def progress(
    client: httpx.AsyncClient, issue_id: str, language: str = "en"
) -> dict[str, Any]:
    response = await client.get(
        f"/api/v1/issues/{issue_id}/progress", headers={"Accept-Language": language}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert [s["step"] for s in body["steps"]] == STEPS
    return body


def states(body: dict[str, Any]) -> list[str]:
    return [s["state"] for s in body["steps"]]


async def test_a_new_report_is_in_its_first_step_with_the_rest_ahead(
    client: httpx.AsyncClient, database: Database, db: Session, city: City
) -> None:
    issue_id = report(db, database, city)
    body = await progress(client, issue_id)
    assert body["current_step"] == "reported"
    assert states(body) == ["current", "upcoming", "upcoming", "upcoming", "upcoming"]
    reported, acknowledged = body["steps"][0], body["steps"][1]
    assert reported["at"] is not None
    assert reported["due_at"] is None
    assert acknowledged["at"] is None
    assert acknowledged["due_at"] == body["timeframe"]["acknowledge_due_at"]
    assert body["steps"][3]["due_at"] == body["timeframe"]["expected_datetime"]
    assert (body["reopen_count"], body["reopen_cycles"]) == (0, [])
    assert body["timeframe"]["state"] == "on_track"


@pytest.mark.parametrize(
    ("language", "labels"),
    [
        ("en", ["Reported", "Acknowledged by the agency", "Work in progress"]),
        ("th", ["รับแจ้งเรื่อง", "หน่วยงานรับเรื่อง", "กำลังดำเนินการ"]),
    ],
)
async def test_steps_are_labelled_in_the_readers_language(
    client: httpx.AsyncClient,
    database: Database,
    db: Session,
    city: City,
    language: str,
    labels: list[str],
) -> None:
    issue_id = report(db, database, city)
    body = await progress(client, issue_id, language)
    assert [s["label"] for s in body["steps"][:3]] == labels


async def test_each_done_step_says_when_and_how_it_kept_to_its_deadline(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    issue_id = report(db, database, city)
    # Resolved straight from acknowledged: work never formally started.
    await act(client, settings, city.agent, issue_id, "claim")
    await act(client, settings, city.agent, issue_id, "resolve", resolution="fixed")
    body = await progress(client, issue_id)
    assert body["current_step"] == "resolved"
    assert states(body) == ["done", "done", "skipped", "current", "upcoming"]
    acknowledged = body["steps"][1]
    issue = stored_issue(database, issue_id)
    assert acknowledged["at"] is not None
    assert acknowledged["punctuality"]["outcome"] == "early"
    assert abs(acknowledged["punctuality"]["by_hours"] - 24) < 0.1  # claimed at once
    resolved = body["steps"][3]
    assert resolved["punctuality"]["outcome"] == "early"
    assert resolved["due_at"].replace("Z", "+00:00") == issue.resolve_due_at.isoformat()
    assert body["timeframe"]["state"] == "met"


async def test_a_reopening_starts_a_new_cycle_that_stays_visible(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    issue_id = report(db, database, city)
    await drive(client, settings, city.agent, issue_id, "resolved")
    first_resolution = stored_issue(database, issue_id).resolved_at
    response = await act(client, settings, city.reporter, issue_id, "reopen", note="Still a hole")
    assert response.status_code == 200, response.text
    body = await progress(client, issue_id)
    assert body["current_step"] == "acknowledged"
    # The work started before the reopening belongs to the last cycle: it lies ahead again.
    assert states(body) == ["done", "current", "upcoming", "upcoming", "upcoming"]
    assert body["steps"][2]["at"] is None
    assert body["reopen_count"] == 1
    [cycle] = body["reopen_cycles"]
    assert cycle["number"] == 1
    assert cycle["note"] == "Still a hole"
    assert first_resolution is not None
    # The time of the resolution's event, written in the same step as the issue's resolved_at.
    disputed = dt.datetime.fromisoformat(cycle["resolved_at"])
    assert abs(disputed - first_resolution) < dt.timedelta(seconds=1)

    await act(client, settings, city.agent, issue_id, "start")
    body = await progress(client, issue_id)
    assert states(body) == ["done", "done", "current", "upcoming", "upcoming"]
    assert body["steps"][2]["at"] > cycle["reopened_at"]


async def test_a_closed_issue_has_every_step_behind_it(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    issue_id = report(db, database, city)
    await drive(client, settings, city.agent, issue_id, "closed")
    body = await progress(client, issue_id)
    assert body["current_step"] == "closed"
    assert states(body) == ["done", "done", "done", "done", "current"]
    assert all(step["at"] is not None for step in body["steps"])


@pytest.mark.parametrize("issue_id", ["NOSUCHISSU", "lower-case!", "0" * 16])
async def test_an_unknown_issue_has_no_progress(client: httpx.AsyncClient, issue_id: str) -> None:
    response = await client.get(f"/api/v1/issues/{issue_id}/progress")
    assert response.status_code == 404, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
