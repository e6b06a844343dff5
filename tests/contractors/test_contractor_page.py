"""The page a contractor's signed link opens: the work in the reader's language, a form to add
after-fix photos and one to report the work done (each with the page's form token), the same
rules as the JSON API's, and a page saying why once the link no longer works."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.i18n import catalog
from app.models import ContractorLink, Language, Photo, PhotoKind
from tests.contractors.helpers import hand_over
from tests.factories import bearer
from tests.lifecycle.helpers import City, drive, report
from tests.photos import images
from tests.web.conftest import csrf_of, visible_text

# What a browser sends when it opens a page: problems come back as pages too.
PAGE_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
ENGLISH = catalog(Language.en)
THAI = catalog(Language.th)


@pytest.fixture
async def browser(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Keeps cookies (the pages' are Secure, hence https), follows nothing, asks for pages."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="https://test", headers={"Accept": PAGE_ACCEPT}
    ) as client:
        yield client


async def _page_link(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, city: City
) -> tuple[str, int]:
    """A hand-over of an issue in progress: the page the contractor is given, and its id."""
    issue_id = report(db, database, city)
    await drive(client, settings, city.agent, issue_id, "in_progress")
    handed = await hand_over(client, settings, city.agent, issue_id)
    assert handed.status_code == 201, handed.text
    url: str = handed.json()["url"]
    return url.removeprefix(settings.public_base_url), int(handed.json()["id"])


async def _send_photos(
    browser: httpx.AsyncClient, path: str, csrf: str, *photos: bytes
) -> httpx.Response:
    files = [("photo", (f"after-{n}.jpg", data, "image/jpeg")) for n, data in enumerate(photos)]
    # A browser sends the file input even when no file was chosen: an empty, nameless part.
    empty = [("photo", ("", b"", "application/octet-stream"))]
    return await browser.post(path, files=files or empty, data={"csrf_token": csrf})


async def test_the_link_opens_a_page_where_the_contractor_adds_a_photo_and_reports_done(
    client: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    db: Session,
    database: Database,
    settings: Settings,
    city: City,
) -> None:
    page_path, link_id = await _page_link(client, db, database, settings, city)
    opened = await browser.get(f"{page_path}?lang=en")
    assert opened.status_code == 200, opened.text
    assert opened.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in opened.headers["content-security-policy"]
    assert opened.headers["cache-control"] == "private, no-store"  # the link is the key
    text = visible_text(opened.text)
    assert ENGLISH["web.contractor.title"] in text
    assert "Fill the pothole." in text  # the agency's request
    assert "Siam Roadworks Co." in text
    assert city.reporter.email is not None
    assert city.reporter.email not in opened.text

    added = await _send_photos(
        browser, f"{page_path}/photos?lang=en", csrf_of(opened.text), images.phone_jpeg(800, 600)
    )
    assert added.status_code == 303, added.text
    shown = await browser.get(added.headers["location"])
    assert "Photos added: 1" in visible_text(shown.text)
    assert ENGLISH["web.issue.photo_resolution"] in visible_text(shown.text)
    assert "/photos/" in shown.text  # the after-fix photo is shown with the work
    with database.session(write=False) as session:
        [photo] = session.scalars(select(Photo)).all()
        assert photo.kind == PhotoKind.resolution

    done = await browser.post(
        f"{page_path}/done?lang=en",
        data={"csrf_token": csrf_of(shown.text), "note": "Filled and compacted."},
    )
    assert done.status_code == 303, done.text
    after = visible_text((await browser.get(done.headers["location"])).text)
    assert ENGLISH["web.contractor.done_notice"] in after
    assert ENGLISH["web.contractor.send_done"] not in after  # reported once, until sent back
    with database.session(write=False) as session:
        link = session.get_one(ContractorLink, link_id)
        assert link.done_note == "Filled and compacted."
        assert link.done_at is not None


async def test_the_page_is_in_thai_and_its_forms_need_the_pages_token(
    client: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    db: Session,
    database: Database,
    settings: Settings,
    city: City,
) -> None:
    page_path, _ = await _page_link(client, db, database, settings, city)
    opened = await browser.get(f"{page_path}?lang=th")
    assert opened.status_code == 200, opened.text
    assert opened.headers["content-language"] == "th"
    assert THAI["web.contractor.title"] in visible_text(opened.text)
    assert THAI["web.contractor.send_done"] in visible_text(opened.text)

    forged = await browser.post(f"{page_path}/done", data={"csrf_token": "not-the-token"})
    assert forged.status_code == 403, forged.text
    assert forged.headers["content-type"].startswith("text/html")
    nothing = await _send_photos(browser, f"{page_path}/photos?lang=th", csrf_of(opened.text))
    assert nothing.status_code == 422, nothing.text
    assert THAI["web.contractor.no_photo"] in visible_text(nothing.text)
    with database.session(write=False) as session:
        assert session.scalars(select(Photo)).all() == []
        assert session.scalars(select(ContractorLink.done_at)).one() is None


async def test_a_revoked_link_opens_a_page_saying_why(
    client: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    db: Session,
    database: Database,
    settings: Settings,
    city: City,
) -> None:
    page_path, link_id = await _page_link(client, db, database, settings, city)
    opened = await browser.get(page_path)
    revoked = await client.post(
        f"/api/v1/contractor-links/{link_id}/revoke", headers=bearer(settings, city.agent)
    )
    assert revoked.status_code == 200, revoked.text
    gone = await browser.get(f"{page_path}?lang=th")
    assert gone.status_code == 410
    assert gone.headers["content-type"].startswith("text/html")
    assert "ยกเลิกลิงก์" in visible_text(gone.text)
    late = await browser.post(f"{page_path}/done", data={"csrf_token": csrf_of(opened.text)})
    assert late.status_code == 410
