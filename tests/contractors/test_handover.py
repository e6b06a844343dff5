"""An agency hands an issue's work to a contractor by a signed link: the contractor, with no
account, sees the work (and nothing of the reporter), adds after-fix photos and reports it done;
the agency resolves the issue or sends the work back. Every step is on the issue's internal
timeline, and the link stops working when revoked, expired, resolved or moved."""

from __future__ import annotations

import datetime as dt

import httpx
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import ContractorLink, Notification, Photo, PhotoKind
from tests.conftest import AppFor, http_client
from tests.contractors.helpers import gone, hand_over, handed_link
from tests.factories import bearer
from tests.lifecycle.helpers import (
    City,
    act,
    drive,
    problem_type,
    report,
    response_status,
    stored_events,
)
from tests.limits.conftest import GENEROUS, limits_on
from tests.photos import images
from tests.photos.helpers import image, metadata_of, multipart

THAI = {"Accept-Language": "th"}


async def test_the_contractor_adds_an_after_fix_photo_and_reports_done_then_the_agency_resolves(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, city: City
) -> None:
    issue_id = report(db, database, city)
    await drive(client, settings, city.agent, issue_id, "in_progress")
    link = await handed_link(client, settings, city.agent, issue_id, valid_days=3)

    work = await client.get(link)
    assert work.status_code == 200, work.text
    seen = work.json()
    assert seen["issue"] == issue_id
    assert seen["instructions"] == "Fill the pothole."
    assert seen["agency"]["slug"] == "west"
    assert (seen["longitude"], seen["latitude"]) == (100.52, 13.72)
    # The contractor needs the place and the problem, not who reported it.
    assert "reporter" not in seen
    assert city.reporter.email
    assert city.reporter.email not in work.text
    assert city.reporter.display_name not in work.text

    photo = await client.post(
        f"{link}/photos", **multipart(("after.jpg", images.phone_jpeg(1600, 1200)))
    )
    assert photo.status_code == 201, photo.text
    (added,) = photo.json()
    assert added["kind"] == "resolution"
    assert (added["width"], added["height"]) == (1200, 1600)  # decoded and turned upright
    served = await client.get(added["urls"]["display"])
    assert metadata_of(served.content) == {}
    assert image(served.content).size == (1200, 1600)

    done = await client.post(f"{link}/done", json={"note": "Filled and compacted."})
    assert done.status_code == 200, done.text
    assert done.json()["done_at"] is not None
    again = await client.post(f"{link}/done", json={})
    assert again.status_code == 409, again.text
    assert problem_type(again) == "conflict"

    listed = await client.get(
        f"/api/v1/issues/{issue_id}/contractor-links", headers=bearer(settings, city.agent)
    )
    [handed] = listed.json()
    assert handed["done_note"] == "Filled and compacted."
    assert handed["active"] is True

    resolved = await act(client, settings, city.agent, issue_id, "resolve", resolution="fixed")
    assert resolved.status_code == 200, resolved.text
    assert "“Resolved”" in gone(await client.get(link))

    events = [e for e in stored_events(database, issue_id) if e.action != "reported"]
    audit = [(e.action, e.actor_role, e.is_public) for e in events]
    assert audit == [
        ("claimed", "agent", True),
        ("started", "agent", True),
        ("handed_over", "agent", False),
        ("photo_added", "contractor", True),  # the fix is shown like any resolution photo
        ("work_done", "contractor", False),
        ("resolved", "agent", True),
    ]
    assert events[3].photo_id == added["id"]
    with database.session(write=False) as session:
        stored = session.get_one(Photo, added["id"])
        assert stored.kind == PhotoKind.resolution
        # Filed under the staff member who handed the work over: they answer for it.
        assert stored.uploader_id == city.agent.id


async def test_the_public_timeline_shows_no_hand_over_and_staff_see_every_step(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, city: City
) -> None:
    issue_id = report(db, database, city)
    await drive(client, settings, city.agent, issue_id, "acknowledged")
    link = await handed_link(client, settings, city.agent, issue_id)
    await client.post(f"{link}/done", json={"note": "Done."})

    public = await client.get(f"/api/v1/issues/{issue_id}/events")
    staff = await client.get(
        f"/api/v1/issues/{issue_id}/events", headers={**bearer(settings, city.agent), **THAI}
    )

    assert [e["action"] for e in public.json()] == ["reported", "claimed"]
    internal = staff.json()[-2:]
    assert [e["action"] for e in internal] == ["handed_over", "work_done"]
    assert internal[1]["actor"]["role_label"] == "ผู้รับเหมา"
    assert internal[1]["note"] == "Done."
    assert "Siam Roadworks Co." in internal[0]["message"]


async def test_the_agency_hears_that_the_work_is_done_and_can_send_it_back(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, city: City
) -> None:
    issue_id = report(db, database, city)
    await drive(client, settings, city.agent, issue_id, "in_progress")
    response = await hand_over(client, settings, city.agent, issue_id)
    link_id = response.json()["id"]
    link = response.json()["api_url"].removeprefix(settings.public_base_url)
    nothing_to_return = await client.post(
        f"/api/v1/contractor-links/{link_id}/send-back",
        headers=bearer(settings, city.agent),
        json={"note": "Not yet."},
    )
    assert nothing_to_return.status_code == 409, nothing_to_return.text

    await client.post(f"{link}/done", json={})
    with database.session(write=False) as session:
        told = (
            session.query(Notification)
            .filter(Notification.recipient_user_id == city.agent.id)
            .order_by(Notification.id)
        )
        assert [n.payload["event"]["action"] for n in told][-1] == "work_done"

    sent_back = await client.post(
        f"/api/v1/contractor-links/{link_id}/send-back",
        headers=bearer(settings, city.agent),
        json={"note": "The edge is still broken."},
    )
    assert sent_back.status_code == 200, sent_back.text
    assert sent_back.json()["done_at"] is None
    work = (await client.get(link)).json()
    assert work["returned_note"] == "The edge is still broken."
    assert work["done_at"] is None
    assert (await client.post(f"{link}/done", json={})).status_code == 200
    actions = [e.action for e in stored_events(database, issue_id)]
    assert actions[-3:] == ["work_done", "work_returned", "work_done"]


async def test_a_revoked_link_stops_working_and_says_why_in_the_readers_language(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, city: City
) -> None:
    issue_id = report(db, database, city)
    await drive(client, settings, city.agent, issue_id, "in_progress")
    response = await hand_over(client, settings, city.agent, issue_id)
    link_id = response.json()["id"]
    link = response.json()["api_url"].removeprefix(settings.public_base_url)

    revoked = await client.post(
        f"/api/v1/contractor-links/{link_id}/revoke", headers=bearer(settings, city.agent)
    )

    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["active"] is False
    assert "ยกเลิกลิงก์" in gone(await client.get(link, headers=THAI))
    gone(await client.post(f"{link}/done", json={}))
    gone(await client.post(f"{link}/photos", **multipart(("a.jpg", images.phone_jpeg(64, 48)))))
    twice = await client.post(
        f"/api/v1/contractor-links/{link_id}/revoke", headers=bearer(settings, city.agent)
    )
    assert twice.status_code == 409, twice.text
    assert stored_events(database, issue_id)[-1].action == "handover_revoked"
    with database.session(write=False) as session:
        assert session.query(Photo).count() == 0


async def test_an_expired_link_stops_working(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, city: City
) -> None:
    issue_id = report(db, database, city)
    await drive(client, settings, city.agent, issue_id, "in_progress")
    link = await handed_link(client, settings, city.agent, issue_id, valid_days=1)
    assert (await client.get(link)).status_code == 200
    with database.session(write=True) as session, session.begin():
        past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
        session.execute(update(ContractorLink).values(expires_at=past))

    assert "expired" in gone(await client.get(link))


async def test_a_transferred_issue_ends_its_agencys_links(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, city: City
) -> None:
    issue_id = report(db, database, city)
    await drive(client, settings, city.agent, issue_id, "in_progress")
    link = await handed_link(client, settings, city.agent, issue_id)

    moved = await act(
        client,
        settings,
        city.agent,
        issue_id,
        "transfer",
        to_agency=city.east.id,
        note="East's road",
    )

    assert moved.status_code == 200, moved.text
    assert "no longer with the agency" in gone(await client.get(link))


async def test_a_forged_or_cut_link_is_not_found(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, city: City
) -> None:
    issue_id = report(db, database, city)
    await drive(client, settings, city.agent, issue_id, "in_progress")
    link = await handed_link(client, settings, city.agent, issue_id)

    for bad in (link[:-3], link + "x", "/api/v1/contractor/Mg.not-our-signature"):
        answer = await client.get(bad)
        assert answer.status_code == 404, (bad, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert "copied whole" in answer.json()["detail"]


async def test_only_the_handling_agencys_staff_hand_over_and_only_work_in_hand(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, city: City
) -> None:
    issue_id = report(db, database, city)
    not_claimed = await hand_over(client, settings, city.agent, issue_id)
    assert not_claimed.status_code == 403, not_claimed.text  # no agency handles it yet
    await drive(client, settings, city.agent, issue_id, "acknowledged")

    for outsider in (city.rival, city.reporter, city.stranger, city.admin):
        refused = await hand_over(client, settings, outsider, issue_id)
        assert refused.status_code == 403, (outsider.role, refused.text)
        listed = await client.get(
            f"/api/v1/issues/{issue_id}/contractor-links", headers=bearer(settings, outsider)
        )
        assert listed.status_code == 403, listed.text
    too_long = await hand_over(client, settings, city.agent, issue_id, valid_days=31)
    assert too_long.status_code == 422, too_long.text
    assert too_long.json()["errors"][0]["location"] == "body.valid_days"
    blank = await hand_over(client, settings, city.agent, issue_id, contractor="  ")
    assert blank.status_code == 422, blank.text
    anonymous = await client.post(
        f"/api/v1/issues/{issue_id}/contractor-links", json={"contractor": "Someone"}
    )
    assert anonymous.status_code == 401, anonymous.text

    await act(client, settings, city.agent, issue_id, "resolve", resolution="fixed")
    finished = await hand_over(client, settings, city.agent, issue_id, headers=THAI)
    assert finished.status_code == 409, finished.text
    assert "“แก้ไขแล้ว”" in finished.json()["detail"]
    assert response_status(await client.get(f"/api/v1/issues/{issue_id}")) == "resolved"


async def test_each_link_has_its_allowance_of_requests(
    app_for: AppFor, db: Session, database: Database, settings: Settings, city: City
) -> None:
    limited = limits_on(settings, rate_limit_contractor="2/year", rate_limit_contractor_ip=GENEROUS)
    async with http_client(app_for(limited)) as client:
        issue_id = report(db, database, city)
        await drive(client, limited, city.agent, issue_id, "in_progress")
        first = await handed_link(client, limited, city.agent, issue_id)
        second = await handed_link(client, limited, city.agent, issue_id)
        for _ in range(2):
            assert (await client.get(first)).status_code == 200

        refused = await client.post(f"{first}/done", json={}, headers=THAI)

        assert refused.status_code == 429, refused.text
        assert int(refused.headers["Retry-After"]) >= 1
        assert refused.json()["title"] == "คำขอมากเกินไป"
        assert (await client.get(second)).status_code == 200  # another link, its own count
