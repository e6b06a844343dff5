"""The issue lifecycle as a specification: every (status, action) pair, over HTTP, and random
action sequences against the service layer."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.errors import DomainError
from app.models import Issue, IssueEvent, IssueStatus, LonLat, Resolution, User
from app.models.base import utcnow
from app.services import issues, lifecycle
from app.services.lifecycle import Action
from tests.factories import IN_WEST, bearer
from tests.lifecycle.helpers import (
    City,
    act,
    drive,
    event_count,
    problem_type,
    report,
    stored_events,
    stored_issue,
)

STATUSES = ["open", "acknowledged", "in_progress", "resolved", "closed"]
ACTIONS = ["claim", "start", "resolve", "close", "reopen", "transfer"]

# The specification: (status, action) -> new status. Every other pair is refused with 409.
TABLE: dict[tuple[str, str], str] = {
    ("open", "claim"): "acknowledged",
    ("open", "transfer"): "open",
    ("acknowledged", "start"): "in_progress",
    ("acknowledged", "resolve"): "resolved",
    ("acknowledged", "transfer"): "open",
    ("in_progress", "resolve"): "resolved",
    ("in_progress", "transfer"): "open",
    ("resolved", "close"): "closed",
    ("resolved", "reopen"): "acknowledged",
}
EVENT_OF = {
    "claim": "claimed",
    "start": "started",
    "resolve": "resolved",
    "close": "closed",
    "reopen": "reopened",
    "transfer": "transferred",
}
# What the handling agency's staff may do in each status (while the issue is unclaimed: the staff
# of an agency it was routed to). Admins belong to no agency: they transfer instead of claiming.
AGENT_ALLOWED: dict[str, list[str]] = {
    "open": ["claim"],
    "acknowledged": ["start", "resolve", "transfer"],
    "in_progress": ["resolve", "transfer"],
    "resolved": ["close", "reopen"],
    "closed": [],
}
ADMIN_ALLOWED: dict[str, list[str]] = {
    "open": ["transfer"],
    "acknowledged": ["start", "resolve", "transfer"],
    "in_progress": ["resolve", "transfer"],
    "resolved": ["close", "reopen"],
    "closed": [],
}
MILESTONES = (
    "agency_id",
    "resolution",
    "acknowledged_at",
    "started_at",
    "resolved_at",
    "closed_at",
    "reopened_at",
    "reopen_count",
)


def test_the_allowed_lists_follow_the_table() -> None:
    for status in STATUSES:
        from_table = sorted(a for (s, a) in TABLE if s == status)
        assert sorted(ADMIN_ALLOWED[status]) == [a for a in from_table if a != "claim"]
        assert sorted(AGENT_ALLOWED[status]) == [
            a for a in from_table if (status, a) != ("open", "transfer")
        ]


def _milestones(issue: Issue) -> dict[str, Any]:
    return {name: getattr(issue, name) for name in MILESTONES}


def _body(action: str, city: City) -> dict[str, Any]:
    body: dict[str, Any] = {"note": f"{action}: note for the timeline"}
    if action == "resolve":
        body["resolution"] = "duplicate"
    if action == "transfer":
        body["to_agency"] = city.east.id
    return body


def _expected_changes(
    action: str, before: dict[str, Any], city: City, t0: dt.datetime, t1: dt.datetime
) -> dict[str, Any]:
    """The milestone fields this action changes, and to what (a time means "set just now")."""
    now = (t0, t1)
    changes: dict[str, dict[str, Any]] = {
        "claim": {"agency_id": city.west.id, "acknowledged_at": now},
        "start": {"started_at": now},
        "resolve": {"resolution": Resolution.duplicate, "resolved_at": now},
        "close": {"closed_at": now},
        "reopen": {
            "resolution": None,
            "resolved_at": None,
            "reopened_at": now,
            "reopen_count": before["reopen_count"] + 1,
        },
        "transfer": {"agency_id": city.east.id},
    }
    return changes[action]


@pytest.mark.parametrize(
    ("status", "action"),
    list(itertools.product(STATUSES, ACTIONS)),
    ids=[f"{s}-{a}" for s, a in itertools.product(STATUSES, ACTIONS)],
)
async def test_every_status_and_action(
    status: str,
    action: str,
    client: httpx.AsyncClient,
    db: Session,
    database: Database,
    settings: Settings,
    city: City,
) -> None:
    issue_id = report(db, database, city)
    await drive(client, settings, city.agent, issue_id, status)
    # The handling agency's staff, or an admin where only an admin may act on an unclaimed issue.
    staff_may = status != "open" or action == "claim"
    actor = city.agent if staff_may else city.admin
    expected_allowed = (AGENT_ALLOWED if staff_may else ADMIN_ALLOWED)[status]
    before = stored_issue(database, issue_id)
    before_milestones, before_version = _milestones(before), before.version
    events_before = event_count(database, issue_id)

    t0 = utcnow()
    response = await act(client, settings, actor, issue_id, action, **_body(action, city))
    t1 = utcnow()

    after = stored_issue(database, issue_id)
    if (status, action) not in TABLE:
        assert response.status_code == 409, response.text
        assert problem_type(response) == "invalid-transition"
        problem = response.json()
        assert problem["current_status"] == status
        assert sorted(problem["allowed_actions"]) == sorted(expected_allowed)
        seen = await client.get(f"/api/v1/issues/{issue_id}", headers=bearer(settings, actor))
        assert seen.status_code == 200, seen.text
        assert sorted(seen.json()["allowed_actions"]) == sorted(expected_allowed)
        # Nothing written.
        assert after.status == status
        assert after.version == before_version
        assert _milestones(after) == before_milestones
        assert event_count(database, issue_id) == events_before
        return

    target = TABLE[(status, action)]
    assert response.status_code == 200, response.text
    moved = response.json()
    assert moved["status"] == target
    assert moved["version"] == before_version + 1
    assert response.headers["etag"] == f'"{before_version + 1}"'
    assert after.status == target
    assert after.version == before_version + 1

    changes = _expected_changes(action, before_milestones, city, t0, t1)
    for name in MILESTONES:
        value = getattr(after, name)
        if name not in changes:
            assert value == before_milestones[name], name
        elif isinstance(changes[name], tuple):
            low, high = changes[name]
            assert value is not None, name
            assert low <= value <= high, name
        else:
            assert value == changes[name], name
    assert (moved["agency"] or {}).get("id") == after.agency_id

    # Exactly one status event, written with the change.
    events = stored_events(database, issue_id)
    assert len(events) == events_before + 1
    written = events[-1]
    assert written.action == EVENT_OF[action]
    assert written.from_status == status
    assert written.to_status == target
    assert written.actor_id == actor.id
    assert written.actor_role == actor.role.value
    assert written.actor_agency_id == actor.agency_id
    assert written.note == f"{action}: note for the timeline"
    assert written.is_public is True
    assert written.resolution == after.resolution
    if action in ("claim", "transfer"):
        assert written.from_agency_id == before_milestones["agency_id"]
        assert written.to_agency_id == after.agency_id

    # The response names what the actor may do next.
    if actor is city.admin:
        expected_next = ADMIN_ALLOWED[target]
    elif after.agency_id == city.west.id:
        expected_next = AGENT_ALLOWED[target]
    else:
        expected_next = []  # handed over to another agency
    assert sorted(moved["allowed_actions"]) == sorted(expected_next)


async def test_resolve_requires_a_resolution(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, city: City
) -> None:
    issue_id = report(db, database, city)
    await drive(client, settings, city.agent, issue_id, "in_progress")
    events_before = event_count(database, issue_id)

    for body in ({}, {"resolution": None}, {"resolution": "solved"}):
        refused = await act(client, settings, city.agent, issue_id, "resolve", **body)
        assert refused.status_code == 422, refused.text
        assert problem_type(refused) == "validation-failed"

    assert stored_issue(database, issue_id).status == "in_progress"
    assert event_count(database, issue_id) == events_before
    for resolution in ("fixed", "duplicate", "not_actionable", "referred", "wont_fix"):
        other = report(db, database, city)
        await drive(client, settings, city.agent, other, "acknowledged")
        resolved = await act(client, settings, city.agent, other, "resolve", resolution=resolution)
        assert resolved.status_code == 200, resolved.text
        assert resolved.json()["resolution"] == resolution


async def test_transfer_needs_an_agency_and_a_note_and_hands_the_issue_over(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, city: City
) -> None:
    issue_id = report(db, database, city)
    await drive(client, settings, city.agent, issue_id, "in_progress")
    version = stored_issue(database, issue_id).version
    events_before = event_count(database, issue_id)

    for body, code in (
        ({"note": "not ours"}, "missing"),
        ({"to_agency": city.east.id}, "missing"),
        ({"to_agency": city.east.id + 1000, "note": "not ours"}, "unknown_agency"),
        ({"to_agency": city.west.id, "note": "not ours"}, "same_agency"),
    ):
        refused = await act(client, settings, city.agent, issue_id, "transfer", **body)
        assert refused.status_code == 422, refused.text
        assert [e["code"] for e in refused.json()["errors"]] == [code]
    after_refusals = stored_issue(database, issue_id)
    assert (after_refusals.status, after_refusals.version) == ("in_progress", version)
    assert event_count(database, issue_id) == events_before

    moved = await act(
        client,
        settings,
        city.agent,
        issue_id,
        "transfer",
        to_agency=city.east.id,
        note="Drains are the east depot's",
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["status"] == "open"
    assert moved.json()["agency"]["id"] == city.east.id
    assert moved.json()["allowed_actions"] == []  # west no longer handles it

    # The old agency, and the other candidate, cannot take it back.
    for outsider in (city.agent, city.rival):
        refused = await act(client, settings, outsider, issue_id, "claim")
        assert refused.status_code == 409, refused.text
        assert problem_type(refused) == "already-claimed"
        assert refused.json()["allowed_actions"] == []
    assert (await act(client, settings, city.agent, issue_id, "start")).status_code == 403

    seen = await client.get(f"/api/v1/issues/{issue_id}", headers=bearer(settings, city.east_agent))
    assert seen.json()["allowed_actions"] == ["claim", "transfer"]
    claimed = await act(client, settings, city.east_agent, issue_id, "claim")
    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["status"] == "acknowledged"
    assert claimed.json()["agency"]["id"] == city.east.id

    steps = [
        (e.action, e.from_agency_id, e.to_agency_id) for e in stored_events(database, issue_id)
    ]
    assert steps[-2:] == [
        ("transferred", city.west.id, city.east.id),
        ("claimed", city.east.id, city.east.id),
    ]


async def test_admin_assigns_an_unclaimed_issue_by_transfer(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, city: City
) -> None:
    issue_id = report(db, database, city)
    refused = await act(client, settings, city.admin, issue_id, "claim")
    assert refused.status_code == 403, refused.text

    moved = await act(
        client, settings, city.admin, issue_id, "transfer", to_agency=city.metro.id, note="Metro"
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["agency"]["id"] == city.metro.id
    # The other candidate lost it; metro claims it.
    assert (await act(client, settings, city.agent, issue_id, "claim")).status_code == 409
    assert (await act(client, settings, city.rival, issue_id, "claim")).status_code == 200


async def test_who_may_act_at_all(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, city: City
) -> None:
    issue_id = report(db, database, city)
    for user in (city.stranger, city.reporter, city.east_agent):
        refused = await act(client, settings, user, issue_id, "claim")
        assert refused.status_code == 403, refused.text
    anonymous = await client.post(
        f"/api/v1/issues/{issue_id}/transitions", json={"action": "claim"}
    )
    assert anonymous.status_code == 401
    await drive(client, settings, city.agent, issue_id, "resolved")
    for user in (city.stranger, city.rival, city.east_agent):
        refused = await act(client, settings, user, issue_id, "reopen", note="still broken")
        assert refused.status_code == 403, refused.text
    assert stored_issue(database, issue_id).status == "resolved"
    assert event_count(database, issue_id) == 4


def _resolved_days_ago(database: Database, issue_id: str, age: dt.timedelta) -> None:
    with database.session(write=True) as session:
        session.execute(
            update(Issue).where(Issue.public_id == issue_id).values(resolved_at=utcnow() - age)
        )
        session.commit()


async def test_reporter_reopens_within_the_window(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, city: City
) -> None:
    issue_id = report(db, database, city)
    await drive(client, settings, city.agent, issue_id, "resolved")
    _resolved_days_ago(database, issue_id, settings.reopen_window - dt.timedelta(hours=1))
    seen = await client.get(f"/api/v1/issues/{issue_id}", headers=bearer(settings, city.reporter))
    assert seen.json()["allowed_actions"] == ["reopen"]

    reopened = await act(
        client, settings, city.reporter, issue_id, "reopen", note="The hole is back"
    )
    assert reopened.status_code == 200, reopened.text
    assert reopened.json()["status"] == "acknowledged"
    assert reopened.json()["agency"]["id"] == city.west.id
    assert reopened.json()["reopen_count"] == 1
    assert reopened.json()["resolution"] is None
    assert reopened.json()["resolved_at"] is None
    assert reopened.json()["reopened_at"] is not None
    # The reporter's reason is on the public timeline.
    timeline = (await client.get(f"/api/v1/issues/{issue_id}/events")).json()
    assert (timeline[-1]["action"], timeline[-1]["note"], timeline[-1]["actor"]["role"]) == (
        "reopened",
        "The hole is back",
        "citizen",
    )
    # Back with the same agency, which must act on it again.
    restarted = await act(client, settings, city.agent, issue_id, "start")
    assert restarted.status_code == 200, restarted.text


async def test_reporter_cannot_reopen_after_the_window(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, city: City
) -> None:
    issue_id = report(db, database, city)
    await drive(client, settings, city.agent, issue_id, "resolved")
    _resolved_days_ago(database, issue_id, settings.reopen_window + dt.timedelta(hours=1))
    before = stored_issue(database, issue_id)
    version, events_before = before.version, event_count(database, issue_id)

    refused = await act(client, settings, city.reporter, issue_id, "reopen", note="Still there")
    assert refused.status_code == 409, refused.text
    assert problem_type(refused) == "invalid-transition"
    assert refused.json()["allowed_actions"] == []
    after = stored_issue(database, issue_id)
    assert (after.status, after.version, after.reopen_count) == ("resolved", version, 0)
    assert event_count(database, issue_id) == events_before

    # The window binds reporters only: the agency can still reopen it.
    reopened = await act(client, settings, city.agent, issue_id, "reopen", note="Re-inspected")
    assert reopened.status_code == 200, reopened.text


async def test_a_read_after_the_window_does_not_offer_reopen_to_the_reporter(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, city: City
) -> None:
    issue_id = report(db, database, city)
    await drive(client, settings, city.agent, issue_id, "resolved")
    _resolved_days_ago(database, issue_id, settings.reopen_window + dt.timedelta(hours=1))
    seen = await client.get(f"/api/v1/issues/{issue_id}", headers=bearer(settings, city.reporter))
    assert seen.json()["allowed_actions"] == []


async def test_internal_notes_are_for_staff_only(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, city: City
) -> None:
    issue_id = report(db, database, city)
    await drive(client, settings, city.agent, issue_id, "acknowledged")
    started = await act(
        client,
        settings,
        city.agent,
        issue_id,
        "start",
        note="Contractor is slow, chase them",
        is_public=False,
    )
    assert started.status_code == 200, started.text
    resolved = await act(
        client,
        settings,
        city.agent,
        issue_id,
        "resolve",
        resolution="fixed",
        note="Patched the road",
    )
    assert resolved.status_code == 200, resolved.text

    async def timeline(user: User | None) -> list[tuple[str, str | None, bool]]:
        headers = bearer(settings, user) if user is not None else {}
        response = await client.get(f"/api/v1/issues/{issue_id}/events", headers=headers)
        assert response.status_code == 200, response.text
        return [(e["action"], e["note"], e["is_public"]) for e in response.json()]

    public = [
        ("reported", None, True),
        ("claimed", None, True),
        ("resolved", "Patched the road", True),
    ]
    internal = [*public[:2], ("started", "Contractor is slow, chase them", False), public[2]]
    assert await timeline(None) == public
    assert await timeline(city.stranger) == public
    assert await timeline(city.east_agent) == public
    for staff in (city.agent, city.rival, city.admin):
        assert await timeline(staff) == internal
    assert [e.is_public for e in stored_events(database, issue_id)] == [True, True, False, True]


async def test_a_citizen_cannot_make_a_note_internal(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, city: City
) -> None:
    issue_id = report(db, database, city)
    await drive(client, settings, city.agent, issue_id, "resolved")
    # Over HTTP the reopen body has no such field...
    refused = await act(
        client, settings, city.reporter, issue_id, "reopen", note="Still broken", is_public=False
    )
    assert refused.status_code == 422, refused.text
    assert event_count(database, issue_id) == 4

    # ...and the service ignores the flag from a citizen.
    with database.session(write=True) as session:
        issue = issues.get_issue(session, issue_id)
        event = lifecycle.transition(
            session,
            issue=issue,
            action=Action.reopen,
            actor=session.get_one(User, city.reporter.id),
            expected_version=None,
            reopen_window=settings.reopen_window,
            note="Still broken",
            is_public=False,
        )
        session.commit()
        assert event.is_public is True
    timeline = (await client.get(f"/api/v1/issues/{issue_id}/events")).json()
    assert (timeline[-1]["action"], timeline[-1]["note"]) == ("reopened", "Still broken")


# Random sequences against the service layer ------------------------------------------------

# Mostly the issue's handler (the staff of its agency, or of a candidate while unclaimed), so
# that sequences get deep; everyone else now and then.
ACTOR_NAMES = ("handler",) * 6 + ("agent", "rival", "east_agent", "admin", "reporter", "stranger")
TARGETS = ("west", "metro", "east", "nowhere", None)
VERSIONS = ("any", "current", "current", "stale")


def _action_strategy(status: str) -> st.SearchStrategy[Action]:
    """Half the time an action the table allows from this status, else any action."""
    allowed = [Action(a) for (s, a) in TABLE if s == status]
    anything = st.sampled_from(list(Action))
    return st.sampled_from(allowed) | anything if allowed else anything


@hypothesis_settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    # Each example reports its own issue, so the city shared between examples is not a problem.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_random_action_sequences_keep_the_invariants(
    data: st.DataObject, database: Database, city: City, settings: Settings
) -> None:
    agencies = {"west": city.west.id, "metro": city.metro.id, "east": city.east.id}
    staff_of = {
        city.west.id: city.agent.id,
        city.metro.id: city.rival.id,
        city.east.id: city.east_agent.id,
    }
    people = {
        "agent": city.agent.id,
        "rival": city.rival.id,
        "east_agent": city.east_agent.id,
        "admin": city.admin.id,
        "reporter": city.reporter.id,
        "stranger": city.stranger.id,
    }
    with database.session(write=True) as session:
        issue = issues.create_issue(
            session,
            spatial=database.spatial,
            reporter=session.get_one(User, city.reporter.id),
            category_code=city.category.code,
            title="Pothole on the main road",
            description="",
            location=LonLat(*IN_WEST),
            address=None,
        ).issue
        session.commit()
        issue_id, public_id = issue.id, issue.public_id

        def stored() -> tuple[Issue, int]:
            found = issues.get_issue(session, public_id)
            session.refresh(found)
            events = session.scalar(
                select(func.count()).select_from(IssueEvent).where(IssueEvent.issue_id == issue_id)
            )
            return found, int(events or 0)

        successes, reopens = 0, 0
        current, _ = stored()
        last_version = current.version
        for _ in range(data.draw(st.integers(1, 30), label="steps")):
            status_before = current.status
            action = data.draw(_action_strategy(status_before.value), label="action")
            actor_name = data.draw(st.sampled_from(ACTOR_NAMES), label="actor")
            if actor_name == "handler":
                actor_id = staff_of[current.agency_id] if current.agency_id else city.agent.id
            else:
                actor_id = people[actor_name]
            resolution = data.draw(st.none() | st.sampled_from(Resolution), label="resolution")
            target = data.draw(st.sampled_from(TARGETS), label="to_agency")
            expected_version = {
                "any": None,
                "current": current.version,
                "stale": current.version - 1,
            }[data.draw(st.sampled_from(VERSIONS), label="if_match")]
            try:
                lifecycle.transition(
                    session,
                    issue=current,
                    action=action,
                    actor=session.get_one(User, actor_id),
                    expected_version=expected_version,
                    reopen_window=settings.reopen_window,
                    note="a note",
                    is_public=data.draw(st.booleans(), label="is_public"),
                    resolution=resolution,
                    to_agency_id=agencies.get(target, -1) if target else None,
                )
            except DomainError:
                session.rollback()
                succeeded = False
            else:
                session.commit()
                succeeded = True

            current, events = stored()
            if succeeded:
                event(f"{status_before.value} -> {action.value}")
                successes += 1
                reopens += action == Action.reopen
                assert (status_before.value, action.value) in TABLE
                assert current.status == TABLE[(status_before.value, action.value)]
                assert current.version > last_version
            else:
                assert current.status == status_before
                assert current.version == last_version
            last_version = current.version

            status = current.status
            assert status in IssueStatus
            finished = status in (IssueStatus.resolved, IssueStatus.closed)
            assert (current.resolution is not None) == finished
            assert (current.resolved_at is not None) == finished
            assert (current.closed_at is not None) == (status == IssueStatus.closed)
            assert current.agency_id is not None or status == IssueStatus.open
            assert (current.acknowledged_at is not None) or status == IssueStatus.open
            assert current.reopen_count == reopens
            assert events == successes + 1
