"""The city's retention policy: a closed issue's personal data (its reporter, followers,
message addresses) and photo originals are removed by the worker N days after it closed; the
civic record (text, place, timeline, resized photos) stays, and each run is audited."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import Follow, Issue, Notification, PhotoFile, PrivacyAudit, User
from app.models.base import utcnow
from app.services import housekeeping
from tests.conftest import AppFor, http_client
from tests.factories import bearer
from tests.lifecycle.helpers import City, drive, report, stored_issue
from tests.notifications.helpers import delivered_mail
from tests.photos.helpers import Disk, upload
from tests.photos.images import phone_jpeg

DAYS = 30


@pytest.fixture
def keeping(settings: Settings) -> Settings:
    return settings.model_copy(update={"retention_days": DAYS})


def closed_days_ago(database: Database, issue_id: str, days: float) -> None:
    with database.session(write=True) as session, session.begin():
        session.execute(
            update(Issue)
            .where(Issue.public_id == issue_id)
            .values(closed_at=utcnow() - dt.timedelta(days=days))
        )


async def test_the_worker_removes_personal_data_n_days_after_closing_and_audits_it(
    keeping: Settings, app_for: AppFor, database: Database, db: Session, city: City
) -> None:
    old, recent, still_open = (report(db, database, city) for _ in range(3))
    follower = bearer(keeping, city.stranger)
    async with http_client(app_for(keeping)) as client:
        added = await upload(client, keeping, city.reporter, old, ("p.jpg", phone_jpeg(2400, 1800)))
        assert added.status_code == 201, added.text
        urls = added.json()[0]["urls"]
        assert (await client.post(f"/api/v1/issues/{old}/follow", headers=follower)).is_success
        for issue_id in (old, recent):
            await drive(client, keeping, city.agent, issue_id, "closed")
        delivered_mail(database, keeping)  # the messages so far went out by e-mail
        closed_days_ago(database, old, DAYS + 1)
        closed_days_ago(database, recent, DAYS - 1)
        disk = Disk(keeping.photo_dir)
        files_before = disk.list_keys()
        with database.session(write=False) as session:
            original = session.scalars(
                select(PhotoFile.key).where(PhotoFile.variant == "full")
            ).one()

        staff = bearer(keeping, city.agent)
        full = urls["display"].replace("/display", "/full")
        assert (await client.get(full, headers=staff)).status_code == 200

        housekeeping.run(database, keeping)  # the worker's housekeeping step

        retired = stored_issue(database, old)
        assert retired.personal_data_removed_at is not None
        assert retired.reporter_id != city.reporter.id
        with database.session(write=False) as session:
            stand_in = session.get(User, retired.reporter_id)
            assert stand_in is not None
            assert stand_in.erased_at is not None
            assert stand_in.email is None
            assert session.scalars(select(Follow).where(Follow.issue_id == retired.id)).all() == []
            addresses = session.scalars(
                select(Notification.destination).where(Notification.issue_id == retired.id)
            ).all()
            assert addresses
            assert set(addresses) == {"erased"}
            audits = session.scalars(select(PrivacyAudit)).all()
        assert [(a.action, a.issue_id) for a in audits] == [("retention_applied", retired.id)]
        assert audits[0].details["photo_originals"] == 1
        assert audits[0].details["follows"] == 2  # the reporter's and the stranger's
        # The original's file is gone; the display size and thumbnail stay and are served.
        assert set(files_before) - set(disk.list_keys()) == {original}
        assert (await client.get(urls["display"])).status_code == 200
        gone = await client.get(full, headers=staff)
        assert gone.status_code == 404
        assert "retention policy" in gone.json()["detail"]
        read = await client.get(f"/api/v1/issues/{old}", headers=staff)
        assert read.json()["photos"][0]["urls"]["full"] is None
        assert read.json()["reporter"]["email"] is None
        # The civic record stays public; the former reporter no longer has it in their list.
        public = await client.get(f"/api/v1/issues/{old}")
        assert public.json()["title"] == "Broken street light"
        assert public.json()["status"] == "closed"
        mine = await client.get("/api/v1/users/me/issues", headers=bearer(keeping, city.reporter))
        assert {i["id"] for i in mine.json()["items"]} == {recent, still_open}
    # Within the period, and not closed: untouched. A second run changes nothing.
    for issue_id in (recent, still_open):
        kept = stored_issue(database, issue_id)
        assert kept.reporter_id == city.reporter.id
        assert kept.personal_data_removed_at is None
    housekeeping.run(database, keeping)
    with database.session(write=False) as session:
        assert len(session.scalars(select(PrivacyAudit)).all()) == 1


async def test_without_a_policy_nothing_is_removed(
    client: httpx.AsyncClient, settings: Settings, database: Database, db: Session, city: City
) -> None:
    assert settings.retention_days is None
    issue_id = report(db, database, city)
    await drive(client, settings, city.agent, issue_id, "closed")
    closed_days_ago(database, issue_id, 10_000)
    housekeeping.run(database, settings)
    assert stored_issue(database, issue_id).reporter_id == city.reporter.id


def test_a_policy_is_a_whole_number_of_days() -> None:
    for wrong in (0, -1, "soon"):
        with pytest.raises(ValueError, match="retention_days"):
            Settings(environment="test", retention_days=wrong, _env_file=None)
