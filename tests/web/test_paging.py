"""Long lists come a page at a time, and their pages link to each other without JavaScript:
a navigation landmark with "previous" and "next" links (rel=prev / rel=next) that keep the
list's filters, sort and language."""

from __future__ import annotations

import html
import re

import httpx
from sqlalchemy.orm import Session

from app.db import Database
from app.web.desk import QUEUE_SIZE
from app.web.public_pages import AGENCIES_PER_PAGE, LIST_SIZE
from tests.factories import PASSWORD, make_agency, make_issue
from tests.web.conftest import Town, csrf_of


def link(page: str, rel: str) -> str | None:
    """The pager's link to the `rel` page, if the page has one."""
    found = re.search(rf'<a href="([^"]+)" rel="{rel}">', page)
    return html.unescape(found[1]) if found else None


def pager_of(page: str) -> str:
    found = re.search(r'<nav class="pager" aria-label="([^"]+)">.*?</nav>', page, re.S)
    assert found is not None, "the page has no pager"
    assert found[1] == "Pages"
    return found[0]


async def _sign_in_clerk(browser: httpx.AsyncClient, town: Town) -> None:
    form = (await browser.get("/sign-in")).text
    signed = await browser.post(
        "/sign-in",
        data={"csrf_token": csrf_of(form), "email": town.clerk.email, "password": PASSWORD},
    )
    assert signed.status_code == 303


def tickets(page: str) -> list[str]:
    return re.findall(r'<li class="ticket[^"]*" data-id="([A-Z0-9]+)"', page)


async def test_a_long_queue_pages_forward_and_back_without_losing_or_repeating_an_issue(
    browser: httpx.AsyncClient, town: Town, db: Session, database: Database
) -> None:
    made = {
        make_issue(db, database.spatial, reporter=town.resident, category=town.category).public_id
        for _ in range(QUEUE_SIZE + 1)
    }
    await _sign_in_clerk(browser, town)
    first = (await browser.get("/desk?lang=en")).text
    assert len(tickets(first)) == QUEUE_SIZE
    assert link(first, "prev") is None
    assert "Page 1" in pager_of(first)
    onward = link(first, "next")
    assert onward is not None
    assert onward.startswith("/desk?")
    assert "lang=en" in onward
    second = (await browser.get(onward)).text
    assert "Page 2" in pager_of(second)
    assert link(second, "next") is None
    assert set(tickets(first)) | set(tickets(second)) == made
    assert not set(tickets(first)) & set(tickets(second))
    back = link(second, "prev")
    assert back is not None
    assert tickets((await browser.get(back)).text) == tickets(first)
    # The queue the live feed re-reads is the page the clerk is on, its links whole pages.
    part = (await browser.get(onward.replace("/desk?", "/desk/queue?"))).text
    assert tickets(part) == tickets(second)
    assert link(part, "prev") == back


async def test_a_short_queue_has_no_pager(
    browser: httpx.AsyncClient, town: Town, db: Session, database: Database
) -> None:
    make_issue(db, database.spatial, reporter=town.resident, category=town.category)
    await _sign_in_clerk(browser, town)
    desk = (await browser.get("/desk")).text
    assert len(tickets(desk)) == 1
    assert 'class="pager"' not in desk


async def test_an_edited_queue_cursor_is_a_400_not_someone_elses_page(
    browser: httpx.AsyncClient, town: Town
) -> None:
    await _sign_in_clerk(browser, town)
    refused = await browser.get("/desk?after=forged.cursor")
    assert refused.status_code == 400


def listed(page: str) -> list[str]:
    return re.findall(r'<li data-id="([A-Z0-9]+)"', page)


async def test_the_maps_list_pages_through_the_filtered_issues_newest_first(
    browser: httpx.AsyncClient, town: Town, db: Session, database: Database
) -> None:
    made = [
        make_issue(db, database.spatial, reporter=town.resident, category=town.category).public_id
        for _ in range(LIST_SIZE + 1)
    ]
    first = (await browser.get(f"/?category={town.category.code}&lang=th")).text
    assert len(listed(first)) == LIST_SIZE
    onward = link(first, "next")
    assert onward is not None
    assert f"category={town.category.code}" in onward
    second = (await browser.get(onward)).text
    assert listed(first) + listed(second) == made[::-1]
    assert link(second, "prev") == f"/?category={town.category.code}&lang=th"


def agency_names(page: str) -> list[str]:
    return re.findall(r'<th scope="row">([^<]+)</th>', page)


async def test_the_agencies_come_a_page_at_a_time_in_the_chosen_order(
    browser: httpx.AsyncClient, town: Town, db: Session
) -> None:
    for _ in range(AGENCIES_PER_PAGE):
        make_agency(db, categories=[town.category])
    everyone = AGENCIES_PER_PAGE + 1  # and the town's own
    first = (await browser.get("/agencies?sort=name&lang=en")).text
    assert len(agency_names(first)) == AGENCIES_PER_PAGE
    assert link(first, "prev") is None
    onward = link(first, "next")
    assert onward is not None
    assert "sort=name" in onward
    assert "page=2" in onward
    second = (await browser.get(onward)).text
    assert len(agency_names(second)) == everyone - AGENCIES_PER_PAGE
    assert link(second, "next") is None
    names = agency_names(first) + agency_names(second)
    assert names == sorted(names, key=str.lower)
    assert link(second, "prev") == "/agencies?sort=name&lang=en"


async def test_a_page_number_below_one_is_refused_as_a_bad_parameter(
    browser: httpx.AsyncClient, town: Town
) -> None:
    refused = await browser.get("/agencies?page=0")
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["location"] == "query.page"
