"""A browser that meets an error on a page path gets a page: the problem's title and detail in
the reader's language, a way home, and the same status and headers as the API's problem+json,
which programs (and every API path) still get."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.i18n import catalog
from app.main import create_app
from app.models import Language
from tests.conftest import AppFor, every_connection_held
from tests.factories import make_issue
from tests.limits.conftest import ALLOWANCE, limits_on
from tests.web.conftest import Town, csrf_of, visible_text

# What Chromium sends when it opens a page or posts a form.
PAGE_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"
AS_A_BROWSER = {"accept": PAGE_ACCEPT}


def assert_error_page(answer: httpx.Response, status: int, lang: Language) -> str:
    """The answer is the error page of `status` in `lang`; returns what a reader sees of it."""
    assert answer.status_code == status
    assert answer.headers["content-type"].startswith("text/html")
    assert f'<html lang="{lang.value}">' in answer.text
    assert answer.headers["content-language"] == lang.value
    assert "script-src 'self';" in answer.headers["content-security-policy"]
    texts = catalog(lang)
    shown = visible_text(answer.text)
    assert texts[f"http.{status}"] in shown or any(
        v in shown for k, v in texts.items() if k.startswith("problem.")
    )
    assert texts["web.problem.home"] in shown
    assert '<a href="/?lang=' + lang.value + '">' in answer.text
    return shown


@pytest.mark.parametrize("lang", list(Language))
async def test_an_unknown_page_address_is_a_404_page_in_the_readers_language(
    browser: httpx.AsyncClient, town: Town, lang: Language
) -> None:
    answer = await browser.get(f"/no-such-page?lang={lang.value}", headers=AS_A_BROWSER)
    shown = assert_error_page(answer, 404, lang)
    assert catalog(lang)["http.404"] in shown
    # Starlette's bare "Not Found: GET /..." is no text for a reader: the page explains.
    assert catalog(lang)["web.problem.404"] in shown


@pytest.mark.parametrize("lang", list(Language))
async def test_an_unknown_issue_is_a_404_page_naming_the_id(
    browser: httpx.AsyncClient, town: Town, lang: Language
) -> None:
    answer = await browser.get(f"/issues/NOSUCHID?lang={lang.value}", headers=AS_A_BROWSER)
    shown = assert_error_page(answer, 404, lang)
    assert catalog(lang)["error.issue.not_found"].format(id="'NOSUCHID'") in shown


@pytest.mark.parametrize("lang", list(Language))
async def test_a_form_without_its_token_is_a_403_page_asking_to_reload(
    browser: httpx.AsyncClient, town: Town, db: Session, database: Database, lang: Language
) -> None:
    issue = make_issue(db, database.spatial, reporter=town.resident, category=town.category)
    answer = await browser.post(
        f"/issues/{issue.public_id}/comments?lang={lang.value}",
        data={"body": "posted from another site"},
        headers=AS_A_BROWSER,
    )
    shown = assert_error_page(answer, 403, lang)
    assert catalog(lang)["web.error.csrf"] in shown


@pytest.mark.parametrize("lang", list(Language))
async def test_a_page_form_over_its_rate_limit_is_a_429_page_that_says_when_to_retry(
    settings: Settings,
    app_for: AppFor,
    town: Town,
    db: Session,
    database: Database,
    lang: Language,
) -> None:
    limited: FastAPI = app_for(limits_on(settings))
    issue = make_issue(db, database.spatial, reporter=town.resident, category=town.category)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=limited), base_url="https://test"
    ) as browser:
        page = await browser.get(f"/issues/{issue.public_id}?lang={lang.value}")
        comment = {"csrf_token": csrf_of(page.text), "body": "Still dark tonight"}
        path = f"/issues/{issue.public_id}/comments?lang={lang.value}"
        for _ in range(ALLOWANCE):
            sent = await browser.post(path, data=comment, headers=AS_A_BROWSER)
            assert sent.status_code == 303
        refused = await browser.post(path, data=comment, headers=AS_A_BROWSER)
    shown = assert_error_page(refused, 429, lang)
    seconds = int(refused.headers["retry-after"])
    assert seconds > 0
    assert catalog(lang)["error.limit.exceeded"].format(seconds=seconds) in shown


@pytest.mark.parametrize("lang", list(Language))
async def test_a_page_finding_every_database_connection_busy_is_a_503_page_that_says_when_to_retry(
    settings: Settings, small_pool: Database, lang: Language
) -> None:
    app = create_app(settings, small_pool)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="https://test"
        ) as browser:
            with every_connection_held(small_pool):
                busy = await browser.get(f"/agencies?lang={lang.value}", headers=AS_A_BROWSER)
            # The connections are back: the same page is served again.
            assert (await browser.get(f"/agencies?lang={lang.value}")).status_code == 200
    finally:
        app.state.photo_workers.shutdown(wait=True)
    shown = assert_error_page(busy, 503, lang)
    seconds = int(busy.headers["retry-after"])
    assert seconds > 0
    assert catalog(lang)["problem.busy"] in shown
    assert catalog(lang)["error.busy"].format(seconds=seconds) in shown


def language_switch_of(html: str, to: Language) -> str:
    found = re.search(rf'<a href="([^"]+)" lang="{to.value}" hreflang="{to.value}">', html)
    assert found is not None, "the page has no language switch"
    return found[1]


async def test_the_language_switch_of_an_error_page_after_a_form_reopens_the_form_page(
    browser: httpx.AsyncClient, town: Town, db: Session, database: Database
) -> None:
    issue = make_issue(db, database.spatial, reporter=town.resident, category=town.category)
    form_page = f"/issues/{issue.public_id}"
    opened = await browser.get(f"{form_page}?lang=en")
    # Which is why a browser names the form's page when it posts the form.
    assert opened.headers["referrer-policy"] == "same-origin"
    refused = await browser.post(
        f"{form_page}/comments",
        data={"body": "posted without the form's token"},
        headers={**AS_A_BROWSER, "referer": f"https://test{form_page}?lang=en"},
    )
    assert_error_page(refused, 403, Language.en)
    switch = language_switch_of(refused.text, Language.th)
    assert switch == f"{form_page}?lang=th"
    reopened = await browser.get(switch)
    assert reopened.status_code == 200
    assert '<html lang="th">' in reopened.text


@pytest.mark.parametrize("referer", [None, "https://elsewhere.example/issues/X"])
async def test_the_language_switch_of_an_error_page_after_a_form_from_elsewhere_goes_home(
    browser: httpx.AsyncClient, town: Town, db: Session, database: Database, referer: str | None
) -> None:
    issue = make_issue(db, database.spatial, reporter=town.resident, category=town.category)
    sent_from = {"referer": referer} if referer else {}
    refused = await browser.post(
        f"/issues/{issue.public_id}/comments?lang=en",
        data={"body": "posted without the form's token"},
        headers={**AS_A_BROWSER, **sent_from},
    )
    assert_error_page(refused, 403, Language.en)
    assert language_switch_of(refused.text, Language.th) == "/?lang=th"


@pytest.mark.parametrize("lang", list(Language))
async def test_a_method_a_page_does_not_take_is_a_405_page_with_its_allow_header(
    browser: httpx.AsyncClient, town: Town, lang: Language
) -> None:
    answer = await browser.put(f"/report?lang={lang.value}", headers=AS_A_BROWSER)
    shown = assert_error_page(answer, 405, lang)
    assert catalog(lang)["web.problem.405"] in shown
    assert set(answer.headers["allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


@pytest.mark.parametrize(
    "path", ["/api/v1/issues/NOSUCHID", "/open311/v2/requests/NOSUCHID.json", "/assets/x/y.css"]
)
async def test_api_surfaces_answer_problems_as_data_even_to_a_browser(
    browser: httpx.AsyncClient, town: Town, path: str
) -> None:
    answer = await browser.get(path, headers=AS_A_BROWSER)
    assert answer.status_code == 404
    assert not answer.headers["content-type"].startswith("text/html")


async def test_a_program_that_accepts_anything_gets_problem_json_on_a_page_path(
    browser: httpx.AsyncClient, town: Town
) -> None:
    for accept in ("*/*", "application/json", "application/problem+json, text/html;q=0.5"):
        answer = await browser.get("/issues/NOSUCHID", headers={"accept": accept})
        assert answer.status_code == 404
        assert answer.headers["content-type"] == "application/problem+json"
