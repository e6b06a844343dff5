"""What residents, clerks and the public do with the pages, in a real browser."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from tests.browser.conftest import Blocked, BrowserCity, MakePerson, Person
from tests.factories import PASSWORD, make_issue
from tests.notifications.helpers import drain
from tests.notifications.receivers import SmtpServer
from tests.photos.images import phone_jpeg

TIMEOUT_MS = 15_000


def sign_in(person: Person, email: str, next_path: str) -> None:
    page = person.page
    page.goto(f"/sign-in?next={next_path}")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**{next_path}*")


def no_violations(person: Person) -> None:
    assert person.axe_violations() == []
    assert person.errors == []


def test_a_resident_reports_with_a_photo_and_the_message_links_back_to_the_issue(
    person: MakePerson,
    browser_city: BrowserCity,
    live_settings: Settings,
    database: Database,
    smtp: SmtpServer,
    tmp_path: Path,
) -> None:
    resident = person()
    assert browser_city.resident.email is not None
    sign_in(resident, browser_city.resident.email, "/report")
    page = resident.page
    no_violations(resident)
    # The map starts on the city's districts; the report is placed where it is clicked.
    page.locator("#report-map path.district").first.wait_for(timeout=TIMEOUT_MS)
    page.locator("#report-map").click()
    expect(page.get_by_label("Latitude")).not_to_have_value("")
    page.get_by_label("Category").select_option(label=browser_city.category.name_en)
    page.get_by_label("Title").fill("Street light out")
    page.get_by_label("Description").fill("Dark since Monday, by the school gate.")
    photo = tmp_path / "light.jpg"
    photo.write_bytes(phone_jpeg(3000, 2000, orientation=1))
    page.get_by_label("Photos").set_input_files(photo)
    # Resized in the browser before it is sent: the server keeps 1600 px anyway.
    page.locator("#report-form[data-resized='1']").wait_for(state="attached")
    sent = page.evaluate("() => document.getElementById('photo').files[0].size")
    assert sent < photo.stat().st_size
    page.get_by_role("button", name="Send the report").click()
    page.wait_for_url(re.compile(r"/issues/[A-Z0-9]+"))
    public_id = re.search(r"/issues/([A-Z0-9]+)", page.url)[1]  # type: ignore[index]
    expect(page.get_by_role("heading", level=1)).to_have_text("Street light out")
    expect(page.locator("#agency")).to_contain_text(browser_city.agency.name_en)
    thumbnail = page.get_by_role("img", name=re.compile("Photo of the problem"))
    expect(thumbnail).to_be_visible()
    assert page.evaluate("() => document.querySelector('.photos img').naturalWidth") > 0
    no_violations(resident)

    drain(database, live_settings)
    receipt = next(m for m in smtp.messages if m["To"] == browser_city.resident.email)
    link = re.search(r"http://127\.0\.0\.1:\d+/issues/[A-Z0-9]+", receipt.get_content())
    assert link is not None
    assert link[0].endswith(f"/issues/{public_id}")
    page.goto(link[0])
    expect(page.get_by_role("heading", level=1)).to_have_text("Street light out")


def test_a_clerk_resolves_on_the_desk_and_sees_it_reopen_live_when_the_resident_says_not_fixed(
    person: MakePerson, browser_city: BrowserCity, db: Session, database: Database
) -> None:
    issue = make_issue(
        db, database.spatial, reporter=browser_city.resident, category=browser_city.category
    )
    clerk = person()
    assert browser_city.clerk.email is not None
    sign_in(clerk, browser_city.clerk.email, "/desk")
    desk = clerk.page
    ticket = desk.locator(f"li.ticket[data-id='{issue.public_id}']")
    expect(ticket).to_be_visible()
    no_violations(clerk)
    ticket.get_by_role("button", name="Claim").click()
    desk.wait_for_url("**/desk*")
    ticket.get_by_label("Public note").fill("Lamp replaced this morning.")
    ticket.get_by_role("button", name="Resolve").click()
    desk.wait_for_url("**/desk*")
    expect(ticket).to_have_attribute("data-status", "resolved")

    resident = person()
    assert browser_city.resident.email is not None
    sign_in(resident, browser_city.resident.email, f"/issues/{issue.public_id}")
    page = resident.page
    expect(page.locator("#status")).to_have_text("Resolved")
    expect(page.locator("#timeline")).to_contain_text("Lamp replaced this morning.")
    expect(page.locator(".verdict").first).to_be_visible()
    no_violations(resident)
    page.get_by_role("button", name="No, it is not fixed").click()
    page.wait_for_url(f"**/issues/{issue.public_id}*")
    # Back with the agency that had it, a new cycle of its timeline.
    expect(page.locator("#status")).to_have_text("Acknowledged")
    expect(page.locator("#timeline")).to_contain_text("Reopened")

    # The desk was not reloaded: the live feed brought the reopening into the queue.
    expect(ticket).to_have_attribute("data-status", "acknowledged", timeout=TIMEOUT_MS)
    expect(ticket).to_contain_text("reopened 1×")


def test_the_public_map_draws_the_issue_and_its_district_with_the_tiles_blocked(
    person: MakePerson, browser_city: BrowserCity, db: Session, database: Database, blocked: Blocked
) -> None:
    issue = make_issue(
        db, database.spatial, reporter=browser_city.resident, category=browser_city.category
    )
    visitor = person()
    page = visitor.page
    page.goto("/")
    expect(page.locator("#issues-map path.district")).to_have_count(1, timeout=TIMEOUT_MS)
    expect(page.locator("#issues-map[data-markers='1']")).to_have_count(1, timeout=TIMEOUT_MS)
    expect(page.locator("#issues-map path.issue-marker")).to_have_count(1)
    # The map's content is also a list, for keyboards and screen readers.
    expect(page.locator("#issue-list").get_by_role("link", name=issue.title)).to_be_visible()
    assert any(url.startswith("https://tiles.invalid/") for url in blocked.urls)
    assert all(url.startswith("https://tiles.invalid/") for url in blocked.urls), blocked.urls
    no_violations(visitor)
    page.goto("/agencies")
    expect(page.get_by_role("table")).to_contain_text(browser_city.agency.name_en)
    no_violations(visitor)


def test_a_thai_reader_gets_every_page_in_thai(
    person: MakePerson, browser_city: BrowserCity, db: Session, database: Database
) -> None:
    issue = make_issue(
        db, database.spatial, reporter=browser_city.resident, category=browser_city.category
    )
    reader = person("th-TH")
    page = reader.page
    for path in ("/", "/report", "/agencies", "/sign-in", f"/issues/{issue.public_id}"):
        page.goto(path)
        expect(page.locator("html")).to_have_attribute("lang", "th")
        no_violations(reader)
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=2).first).to_have_text("Progress and time frame")
