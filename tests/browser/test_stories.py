"""What residents, clerks and the public do with the pages, in a real browser."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import AttributeDatatype, District, Issue
from app.web.public_pages import AGENCIES_PER_PAGE
from tests.browser.conftest import Blocked, BrowserCity, MakePerson, Person
from tests.factories import (
    PASSWORD,
    attribute,
    count,
    make_agency,
    make_category,
    make_issue,
)
from tests.notifications.helpers import drain
from tests.notifications.receivers import SmtpServer
from tests.photos.images import phone_jpeg

TIMEOUT_MS = 15_000


async def sign_in(person: Person, email: str, next_path: str) -> None:
    page = person.page
    await page.goto(f"/sign-in?next={next_path}")
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"**{next_path}*")


async def no_violations(person: Person) -> None:
    assert await person.axe_violations() == []
    assert person.errors == []


async def test_a_resident_reports_with_a_photo_and_the_message_links_back_to_the_issue(
    person: MakePerson,
    browser_city: BrowserCity,
    live_settings: Settings,
    database: Database,
    smtp: SmtpServer,
    tmp_path: Path,
) -> None:
    resident = await person()
    assert browser_city.resident.email is not None
    await sign_in(resident, browser_city.resident.email, "/report")
    page = resident.page
    await no_violations(resident)
    # The map starts on the city's districts; the report is placed where it is clicked.
    await page.locator("#report-map path.district").first.wait_for(timeout=TIMEOUT_MS)
    await page.locator("#report-map").click()
    await expect(page.get_by_label("Latitude")).not_to_have_value("")
    await page.get_by_label("Category").select_option(label=browser_city.category.name_en)
    await page.get_by_label("Title").fill("Street light out")
    await page.get_by_label("Description").fill("Dark since Monday, by the school gate.")
    photo = tmp_path / "light.jpg"
    photo.write_bytes(phone_jpeg(3000, 2000, orientation=1))
    await page.get_by_label("Photos").set_input_files(photo)
    # Resized in the browser before it is sent: the server keeps 1600 px anyway.
    await page.locator("#report-form[data-resized='1']").wait_for(state="attached")
    sent = await page.evaluate("() => document.getElementById('photo').files[0].size")
    assert sent < photo.stat().st_size
    await page.get_by_role("button", name="Send the report").click()
    await page.wait_for_url(re.compile(r"/issues/[A-Z0-9]+"))
    public_id = re.search(r"/issues/([A-Z0-9]+)", page.url)[1]  # type: ignore[index]
    await expect(page.get_by_role("heading", level=1)).to_have_text("Street light out")
    await expect(page.locator("#agency")).to_contain_text(browser_city.agency.name_en)
    thumbnail = page.get_by_role("img", name=re.compile("Photo of the problem"))
    await expect(thumbnail).to_be_visible()
    assert await page.evaluate("() => document.querySelector('.photos img').naturalWidth") > 0
    await no_violations(resident)

    drain(database, live_settings)
    receipt = next(m for m in smtp.messages if m["To"] == browser_city.resident.email)
    link = re.search(r"http://127\.0\.0\.1:\d+/issues/[A-Z0-9]+", receipt.get_content())
    assert link is not None
    assert link[0].endswith(f"/issues/{public_id}")
    await page.goto(link[0])
    await expect(page.get_by_role("heading", level=1)).to_have_text("Street light out")


async def test_a_clerk_resolves_on_the_desk_and_sees_it_reopen_live_when_told_not_fixed(
    person: MakePerson, browser_city: BrowserCity, db: Session, database: Database
) -> None:
    issue = make_issue(
        db, database.spatial, reporter=browser_city.resident, category=browser_city.category
    )
    # The resident has the issue's page open while the clerk works on it.
    resident = await person()
    assert browser_city.resident.email is not None
    await sign_in(resident, browser_city.resident.email, f"/issues/{issue.public_id}")
    page = resident.page
    await expect(page.locator("#status")).to_have_text("Open")
    await page.evaluate("() => { window.notReloaded = true; }")

    clerk = await person()
    assert browser_city.clerk.email is not None
    await sign_in(clerk, browser_city.clerk.email, "/desk")
    desk = clerk.page
    ticket = desk.locator(f"li.ticket[data-id='{issue.public_id}']")
    await expect(ticket).to_be_visible()
    await no_violations(clerk)
    await ticket.get_by_role("button", name="Claim").click()
    await desk.wait_for_url("**/desk*")
    await ticket.get_by_label("Public note").fill("Lamp replaced this morning.")
    await ticket.get_by_role("button", name="Resolve").click()
    await desk.wait_for_url("**/desk*")
    await expect(ticket).to_have_attribute("data-status", "resolved")

    # The resident's page was not reloaded: its live feed brought the steps, and the question.
    await expect(page.locator("#status")).to_have_text("Resolved", timeout=TIMEOUT_MS)
    await expect(page.locator("#timeline")).to_contain_text("Lamp replaced this morning.")
    await expect(page.locator(".verdict").first).to_be_visible()
    assert await page.evaluate("() => window.notReloaded === true")
    await no_violations(resident)
    await page.get_by_role("button", name="No, it is not fixed").click()
    await page.wait_for_url(f"**/issues/{issue.public_id}*")
    # Back with the agency that had it, a new cycle of its timeline.
    await expect(page.locator("#status")).to_have_text("Acknowledged")
    await expect(page.locator("#timeline")).to_contain_text("Reopened")

    # The desk was not reloaded: the live feed brought the reopening into the queue.
    await expect(ticket).to_have_attribute("data-status", "acknowledged", timeout=TIMEOUT_MS)
    await expect(ticket).to_contain_text("reopened 1×")


async def test_the_public_map_draws_the_issue_and_its_district_with_the_tiles_blocked(
    person: MakePerson, browser_city: BrowserCity, db: Session, database: Database, blocked: Blocked
) -> None:
    issue = make_issue(
        db, database.spatial, reporter=browser_city.resident, category=browser_city.category
    )
    visitor = await person()
    page = visitor.page
    await page.goto("/")
    await expect(page.locator("#issues-map path.district")).to_have_count(1, timeout=TIMEOUT_MS)
    await expect(page.locator("#issues-map[data-markers='1']")).to_have_count(1, timeout=TIMEOUT_MS)
    await expect(page.locator("#issues-map path.issue-marker")).to_have_count(1)
    # The map's content is also a list, for keyboards and screen readers.
    await expect(page.locator("#issue-list").get_by_role("link", name=issue.title)).to_be_visible()
    assert any(url.startswith("https://tiles.invalid/") for url in blocked.urls)
    assert all(url.startswith("https://tiles.invalid/") for url in blocked.urls), blocked.urls
    await no_violations(visitor)
    await page.goto("/agencies")
    await expect(page.get_by_role("table")).to_contain_text(browser_city.agency.name_en)
    await no_violations(visitor)


async def test_a_thai_reader_gets_every_page_in_thai(
    person: MakePerson, browser_city: BrowserCity, db: Session, database: Database
) -> None:
    issue = make_issue(
        db, database.spatial, reporter=browser_city.resident, category=browser_city.category
    )
    reader = await person("th-TH")
    page = reader.page
    for path in ("/", "/report", "/agencies", "/sign-in", f"/issues/{issue.public_id}"):
        await page.goto(path)
        await expect(page.locator("html")).to_have_attribute("lang", "th")
        await no_violations(reader)
    await page.get_by_role("link", name="English").click()
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.get_by_role("heading", level=2).first).to_have_text("Progress and time frame")


async def test_a_missing_page_is_a_page_with_a_way_home(
    person: MakePerson, browser_city: BrowserCity
) -> None:
    for locale, lang, heading in (("en-GB", "en", "Not found"), ("th-TH", "th", "ไม่พบข้อมูล")):
        reader = await person(locale)
        page = reader.page
        answer = await page.goto("/issues/NOSUCHID")
        assert answer is not None
        assert answer.status == 404
        await expect(page.locator("html")).to_have_attribute("lang", lang)
        await expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        await expect(page.get_by_role("alert")).to_contain_text("NOSUCHID")
        await no_violations(reader)
        await page.locator("main a[href^='/?lang=']").click()
        await expect(page.locator("#issues-map")).to_be_visible()


async def test_a_blocking_answer_shows_whom_to_call_and_sends_nothing(
    person: MakePerson, browser_city: BrowserCity, db: Session
) -> None:
    tree = make_category(
        db,
        "fallen_tree",
        attributes=[attribute("danger", AttributeDatatype.singlevaluelist, order=1, required=True)],
    )
    tree.attributes[0].values = [
        {"key": "yes", "name": "Someone is hurt or trapped", "emergency": True},
        {"key": "no", "name": "No one is in danger", "emergency": False},
    ]
    browser_city.agency.categories.append(tree)
    db.scalars(select(District).where(District.code == "west")).one().emergency_number = "1669"
    db.commit()
    resident = await person()
    page = resident.page
    await page.goto("/report")
    await page.locator("#report-map path.district").first.wait_for(timeout=TIMEOUT_MS)
    await page.locator("#report-map").click()
    await expect(page.get_by_label("Latitude")).not_to_have_value("")
    await page.get_by_label("Category").select_option(label=tree.name_en)
    # The category's questions come at once, without sending the form.
    danger = page.get_by_label("Someone is hurt or trapped")
    await expect(danger).to_be_visible(timeout=TIMEOUT_MS)
    await page.get_by_label("Title").fill("A tree fell on a car")
    await danger.check()
    stop = page.locator("#emergency")
    await expect(stop).to_be_visible(timeout=TIMEOUT_MS)
    await expect(stop.get_by_role("link", name="Call 1669")).to_have_attribute("href", "tel:1669")
    await expect(page.get_by_role("button", name="Send the report")).to_be_hidden()
    await no_violations(resident)
    assert count(db, Issue) == 0
    # No one in danger after all: an ordinary report again.
    await page.get_by_label("No one is in danger").check()
    await expect(stop).to_have_count(0)
    await page.get_by_role("button", name="Send the report").click()
    await page.wait_for_url(re.compile(r"/issues/[A-Z0-9]+"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("A tree fell on a car")


async def test_the_agencies_page_through_with_the_keyboard(
    person: MakePerson, browser_city: BrowserCity, db: Session
) -> None:
    for _ in range(AGENCIES_PER_PAGE):
        make_agency(db, categories=[browser_city.category])
    visitor = await person()
    page = visitor.page
    await page.goto("/agencies?sort=name")
    pages = page.get_by_role("navigation", name="Pages")
    await expect(page.locator("#kpis tbody tr")).to_have_count(AGENCIES_PER_PAGE)
    await no_violations(visitor)
    await pages.get_by_role("link", name="Next page").focus()
    await page.keyboard.press("Enter")
    await page.wait_for_url("**page=2*")
    await expect(page.locator("#kpis tbody tr")).to_have_count(1)
    await expect(pages).to_contain_text("Page 2")
    await no_violations(visitor)
    await pages.get_by_role("link", name="Previous page").click()
    await expect(page.locator("#kpis tbody tr")).to_have_count(AGENCIES_PER_PAGE)
