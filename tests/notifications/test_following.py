"""Anyone may follow an issue (with an account or a device) and watch an area for new reports;
every message carries a one-click unsubscribe that needs no login."""

from __future__ import annotations

import httpx
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import Language, Role
from tests.factories import IN_EAST, IN_WEST, bearer, make_category, make_issue, make_user
from tests.lifecycle.helpers import City, act, problem_type, report
from tests.notifications.helpers import confirm, delivered_mail, link, outbox, summary

DEVICE = {"X-Device-Id": "a-phone-with-a-long-secret-id-0001"}


async def test_a_device_follows_and_unfollows_an_issue(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    issue_id = report(db, database, city)
    response = await client.post(f"/api/v1/issues/{issue_id}/follow", headers=DEVICE)
    assert response.json() == {"issue": issue_id, "following": True}
    assert (
        await client.post(f"/api/v1/issues/{issue_id}/follow", headers=DEVICE)
    ).status_code == 200
    await client.delete(f"/api/v1/issues/{issue_id}/follow", headers=DEVICE)
    before = len(outbox(database))
    assert (await act(client, settings, city.agent, issue_id, "claim")).status_code == 200
    assert {r.reason for r in outbox(database)[before:]} == {"reporter"}


async def test_following_needs_some_identity_and_an_existing_issue(
    client: httpx.AsyncClient, database: Database, db: Session, city: City
) -> None:
    issue_id = report(db, database, city)
    assert (await client.post(f"/api/v1/issues/{issue_id}/follow")).status_code == 401
    missing = await client.post("/api/v1/issues/NOSUCHISSUE/follow", headers=DEVICE)
    assert missing.status_code == 404


async def test_watchers_of_a_polygon_or_a_circle_hear_of_new_reports_in_their_categories(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    other = make_category(db, "graffiti")
    polygon_watcher, circle_watcher, graffiti_watcher = (make_user(db) for _ in range(3))
    west_square = {
        "type": "Polygon",
        "coordinates": [
            [[100.51, 13.71], [100.53, 13.71], [100.53, 13.73], [100.51, 13.73], [100.51, 13.71]]
        ],
    }
    for user, body in (
        (polygon_watcher, {"area": west_square}),
        (
            circle_watcher,
            {
                "latitude": IN_WEST[1],
                "longitude": IN_WEST[0] + 0.01,
                "radius_m": 1500,
                "categories": ["pothole"],
            },
        ),
        (graffiti_watcher, {"area": west_square, "categories": ["graffiti"]}),
    ):
        response = await client.post("/api/v1/watches", headers=bearer(settings, user), json=body)
        assert response.status_code == 201, response.text
    listed = (await client.get("/api/v1/watches", headers=bearer(settings, circle_watcher))).json()
    assert listed[0]["categories"] == ["pothole"]
    assert listed[0]["radius_m"] == 1500
    # IN_WEST is inside the square and 1.08 km from the circle's centre: both are told.
    west = report(db, database, city)
    assert summary([r for r in outbox(database, west) if r.reason == "watcher"]) == {
        (polygon_watcher.id, "email", "watcher", "area_new_issue"),
        (circle_watcher.id, "email", "watcher", "area_new_issue"),
    }
    # IN_EAST is outside both; a graffiti report inside the square reaches only its watchers.
    east = make_issue(
        db, database.spatial, reporter=city.reporter, category=city.category, at=IN_EAST
    )
    assert [r for r in outbox(database, east.public_id) if r.reason == "watcher"] == []
    tag = make_issue(db, database.spatial, reporter=city.reporter, category=other, at=IN_WEST)
    assert {
        r.recipient_user_id for r in outbox(database, tag.public_id) if r.reason == "watcher"
    } == {
        polygon_watcher.id,
        graffiti_watcher.id,
    }


async def test_a_watch_is_a_polygon_or_a_circle_with_known_categories(
    client: httpx.AsyncClient, settings: Settings, city: City
) -> None:
    headers = bearer(settings, city.stranger)
    for body, status in (
        ({"latitude": 13.7, "longitude": 100.5}, 422),
        (
            {
                "latitude": 13.7,
                "longitude": 100.5,
                "radius_m": 10,
                "area": {"type": "Polygon", "coordinates": []},
            },
            422,
        ),
        ({"area": {"type": "Point", "coordinates": [100.5, 13.7]}}, 422),
        ({"latitude": 13.7, "longitude": 100.5, "radius_m": 10_000_000}, 422),
        ({"latitude": 13.7, "longitude": 100.5, "radius_m": 100, "categories": ["nope"]}, 422),
    ):
        response = await client.post("/api/v1/watches", headers=headers, json=body)
        assert response.status_code == status, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    assert (await client.delete("/api/v1/watches/999", headers=headers)).status_code == 404


async def test_the_unsubscribe_link_in_a_message_works_without_login_and_only_once_matters(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    city.reporter.language = Language.en
    watcher = make_user(db, Role.citizen)
    watcher.language = Language.en
    db.commit()
    response = await client.post(
        "/api/v1/watches",
        headers=bearer(settings, watcher),
        json={"latitude": IN_WEST[1], "longitude": IN_WEST[0], "radius_m": 200},
    )
    assert response.status_code == 201
    issue_id = report(db, database, city)
    mail = delivered_mail(database, settings)
    to_reporter = next(m for m in mail if m["To"] == city.reporter.email)
    to_watcher = next(m for m in mail if m["To"] == watcher.email)
    stop_reporter = link(to_reporter, "Stop these messages")
    assert to_reporter["List-Unsubscribe"] == f"<http://127.0.0.1:8000{stop_reporter}>"
    one_click = await client.post(
        stop_reporter,
        content="List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert one_click.status_code == 200, one_click.text
    assert one_click.json()["detail"] == "You no longer follow this issue."
    again = await confirm(client, stop_reporter)  # from the link's confirmation: same outcome
    assert again.json()["detail"] == "You no longer follow this issue."
    watch_link = link(to_watcher, "Stop these messages")
    shown = await client.get(watch_link)
    assert shown.json()["description"] == (
        "Remove your area watch? Messages about new issues there will no longer reach you."
    )
    assert len((await client.get("/api/v1/watches", headers=bearer(settings, watcher))).json()) == 1
    stopped = await confirm(client, watch_link)
    assert stopped.json()["detail"] == "Your area watch is removed."
    assert (await client.get("/api/v1/watches", headers=bearer(settings, watcher))).json() == []
    before = len(outbox(database))
    assert (await act(client, settings, city.agent, issue_id, "claim")).status_code == 200
    assert outbox(database)[before:] == []
    forged = await client.get(stop_reporter[:-3] + "xyz")
    assert forged.status_code == 400
    assert problem_type(forged) == "invalid-link"


async def test_staff_unsubscribe_from_new_issue_alerts(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    city.agent.language = Language.th
    db.commit()
    report(db, database, city)
    mail = delivered_mail(database, settings)
    alert = next(m for m in mail if m["To"] == city.agent.email)
    assert (await client.post(link(alert, "หยุดรับข้อความเหล่านี้"))).status_code == 200
    second = report(db, database, city)
    assert city.agent.id not in {r.recipient_user_id for r in outbox(database, second)}
    prefs = await client.get(
        "/api/v1/users/me/notification-preferences", headers=bearer(settings, city.agent)
    )
    assert prefs.json()["agency_alerts"] is False


async def test_preferences_choose_channels_and_language(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    headers = bearer(settings, city.reporter)
    response = await client.patch(
        "/api/v1/users/me/notification-preferences",
        headers=headers,
        json={"language": "en", "email": False},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "email": False,
        "webpush": True,
        "webhook": True,
        "agency_alerts": True,
        "language": "en",
    }
    issue_id = report(db, database, city)
    assert [r for r in outbox(database, issue_id) if r.recipient_user_id == city.reporter.id] == []
    bad = await client.patch(
        "/api/v1/users/me/notification-preferences", headers=headers, json={"language": "fr"}
    )
    assert bad.status_code == 422
