"""The pages without a browser: what every page promises (strict headers, hashed assets, a
token on every form, the reader's language) and the report form working without JavaScript."""

from __future__ import annotations

import datetime as dt
import html
import json
import re

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.i18n import catalog
from app.models import Comment, Issue, IssueStatus, Language
from tests.conftest import AppFor
from tests.factories import IN_WEST, PASSWORD, count, make_issue
from tests.photos.images import phone_jpeg
from tests.web.conftest import Town, csrf_of, field_of, visible_text

PAGES = ["/", "/report", "/agencies", "/sign-in"]


async def _report(
    browser: httpx.AsyncClient, town: Town, *, title: str = "Broken street light"
) -> httpx.Response:
    """A resident's report through the plain form (no JavaScript), with one photo."""
    form = (await browser.get("/report")).text
    return await browser.post(
        "/report",
        data={
            "csrf_token": csrf_of(form),
            "idempotency_key": field_of(form, "idempotency_key"),
            "latitude": str(IN_WEST[1]),
            "longitude": str(IN_WEST[0]),
            "category": town.category.code,
            "title": title,
            "description": "Dark since Monday",
        },
        files={"photo": ("light.jpg", phone_jpeg(1200, 900), "image/jpeg")},
    )


async def test_a_report_sent_twice_from_one_form_makes_one_issue_and_lands_on_its_page(
    browser: httpx.AsyncClient, town: Town, db: Session
) -> None:
    form = (await browser.get("/report")).text
    fields = {
        "csrf_token": csrf_of(form),
        "idempotency_key": field_of(form, "idempotency_key"),
        "latitude": str(IN_WEST[1]),
        "longitude": str(IN_WEST[0]),
        "category": town.category.code,
        "title": "Broken street light",
        "description": "Dark since Monday",
    }
    photo = {"photo": ("light.jpg", phone_jpeg(1200, 900), "image/jpeg")}
    first = await browser.post("/report", data=fields, files=photo)
    again = await browser.post("/report", data=fields, files=photo)
    assert first.status_code == again.status_code == 303
    assert again.headers["location"] == first.headers["location"]
    assert count(db, Issue) == 1
    page = await browser.get(first.headers["location"])
    assert page.status_code == 200
    text = visible_text(page.text)
    assert "Broken street light" in text
    # Named before anyone claims it: the agency the report was routed to.
    assert town.west.name_en in text
    assert "not yet claimed" in text
    assert re.search(r'<img src="http://127\.0\.0\.1:8000/api/v1/photos/\d+/thumbnail"', page.text)
    # The reporter's browser is known on the page (the device cookie): no "me too" for them.
    assert "Me too" not in text


async def test_a_report_with_a_missing_title_comes_back_with_its_message_and_stores_nothing(
    browser: httpx.AsyncClient, town: Town, db: Session
) -> None:
    form = (await browser.get("/report?lang=th")).text
    answer = await browser.post(
        "/report?lang=th",
        data={
            "csrf_token": csrf_of(form),
            "idempotency_key": field_of(form, "idempotency_key"),
            "latitude": "13.72",
            "longitude": "not a number",
            "category": town.category.code,
            "title": "",
        },
    )
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("text/html")
    assert 'id="title-error"' in answer.text
    assert 'id="longitude-error"' in answer.text
    assert catalog(Language.th)["web.report.fix_below"] in answer.text
    assert 'value="13.72"' in answer.text  # what was typed is kept
    assert count(db, Issue) == 0


@pytest.mark.parametrize("path", PAGES)
async def test_every_page_runs_only_our_own_scripts_and_styles(
    browser: httpx.AsyncClient, town: Town, path: str
) -> None:
    page = await browser.get(path)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "style-src 'self';" in policy
    assert "unsafe" not in policy
    assert "frame-ancestors 'none'" in policy
    assert page.headers["cache-control"] == "private, no-store"
    # No inline script or style in the document, and nothing from another host.
    assert not re.search(r"<script(?![^>]*\bsrc=)", page.text)
    assert "<style" not in page.text
    assert " style=" not in page.text
    assert not re.search(r'(src|href)="(https?:)?//', page.text)


async def test_static_files_are_addressed_by_their_content_and_kept_for_a_year(
    browser: httpx.AsyncClient,
) -> None:
    page = (await browser.get("/")).text
    addresses = re.findall(r'(?:src|href)="(/assets/[0-9a-f]{12}/[^"]+)"', page)
    assert any(a.endswith("bundles/map.js") for a in addresses)
    for address in addresses:
        asset = await browser.get(address)
        assert asset.status_code == 200, address
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    # Scripts and styles travel compressed to browsers that accept it (httpx does).
    script = await browser.get(next(a for a in addresses if a.endswith("bundles/map.js")))
    assert script.headers["content-encoding"] == "gzip"
    assert int(script.headers["content-length"]) < len(script.content) / 2
    stale = re.sub(r"/assets/[0-9a-f]{12}/", "/assets/000000000000/", addresses[0])
    assert (await browser.get(stale)).status_code == 404


@pytest.mark.parametrize("path", PAGES)
async def test_every_page_links_the_sites_icon_and_so_does_the_address_browsers_guess(
    browser: httpx.AsyncClient, town: Town, path: str
) -> None:
    page = (await browser.get(path)).text
    linked = re.search(r'<link rel="icon" href="(/assets/[0-9a-f]{12}/[^"]+)"', page)
    assert linked is not None, "the page links no icon"
    icon = await browser.get(linked[1])
    assert icon.status_code == 200
    assert icon.headers["content-type"] == "image/svg+xml"
    assert icon.text.startswith("<svg")
    # A browser that asks for /favicon.ico on its own is sent to the same file.
    guessed = await browser.get("/favicon.ico")
    assert guessed.status_code == 302
    assert guessed.headers["location"] == linked[1]


async def _issue_page(browser: httpx.AsyncClient, town: Town) -> str:
    reported = await _report(browser, town)
    location = reported.headers["location"]
    assert location.startswith("/issues/")
    return location.split("?")[0]


async def test_every_form_refuses_a_post_without_the_readers_token(
    browser: httpx.AsyncClient, town: Town, db: Session
) -> None:
    issue = await _issue_page(browser, town)
    issues_before, comments_before = count(db, Issue), count(db, Comment)
    posts = [
        ("/report", {"title": "x", "category": town.category.code}),
        (f"{issue}/comments", {"body": "a comment"}),
        (f"{issue}/support", {}),
        (f"{issue}/follow", {"follow": "0"}),
        (f"{issue}/answer", {"answer": "fixed"}),
        (f"{issue}/feedback", {"token": "x" * 20, "answer": "fixed"}),
        (f"{issue}/unsubscribe", {"token": "x" * 20}),
        ("/sign-in", {"email": town.clerk.email or "", "password": "x"}),
        ("/sign-out", {}),
        (f"/desk/issues/{issue.rsplit('/', 1)[1]}", {"action": "claim"}),
        ("/desk/bulk", {"action": "claim"}),
    ]
    for path, fields in posts:
        for token in (None, "forged"):
            data = fields if token is None else {**fields, "csrf_token": token}
            refused = await browser.post(path, data=data)
            assert refused.status_code == 403, (path, refused.text)
            assert refused.headers["content-type"] == "application/problem+json"
            assert "reload the page" in refused.json()["detail"]
    # A form posted from another site carries the cookies but cannot know the token.
    assert (count(db, Issue), count(db, Comment)) == (issues_before, comments_before)


async def test_the_language_comes_from_the_query_then_the_cookie_then_the_browser(
    browser: httpx.AsyncClient, app: FastAPI, settings: Settings, app_for: AppFor, town: Town
) -> None:
    thai = await browser.get("/?lang=th")
    assert '<html lang="th">' in thai.text
    assert catalog(Language.th)["web.map.title"] in thai.text
    assert thai.headers["content-language"] == "th"
    assert any(c.startswith("civicloop_lang=th;") for c in thai.headers.get_list("set-cookie"))
    for set_cookie in thai.headers.get_list("set-cookie"):
        assert "HttpOnly" in set_cookie
        assert "Secure" in set_cookie
        assert "SameSite=lax" in set_cookie
    # The cookie it left holds on the next page, over the browser's own preference.
    kept = await browser.get("/agencies", headers={"accept-language": "en"})
    assert '<html lang="th">' in kept.text
    # A browser without the cookie: its Accept-Language, else the city's default language.
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://test"
    ) as other:
        assert (
            '<html lang="th">'
            in (await other.get("/", headers={"accept-language": "th-TH,th;q=0.9"})).text
        )
        assert '<html lang="en">' in (await other.get("/", headers={"accept-language": "fr"})).text
    city_default: FastAPI = app_for(settings.model_copy(update={"default_language": "th"}))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=city_default), base_url="https://test"
    ) as fresh:
        assert '<html lang="th">' in (await fresh.get("/", headers={"accept-language": "fr"})).text


async def test_thai_dates_are_in_the_buddhist_calendar(
    browser: httpx.AsyncClient, town: Town, db: Session, database: Database
) -> None:
    issue = make_issue(db, database.spatial, reporter=town.resident, category=town.category)
    year = issue.created_at.year
    thai = visible_text((await browser.get(f"/issues/{issue.public_id}?lang=th")).text)
    english = visible_text((await browser.get(f"/issues/{issue.public_id}?lang=en")).text)
    assert str(year + 543) in thai
    assert str(year) not in thai
    assert str(year) in english


def _worded(lang: Language) -> dict[str, str]:
    """The catalog's page texts as shown (placeholders cut off at their first one)."""
    return {k: v.split("{")[0].strip() for k, v in catalog(lang).items() if k.startswith("web.")}


async def test_switching_language_changes_every_visible_label(
    browser: httpx.AsyncClient, town: Town, db: Session, database: Database
) -> None:
    issue = make_issue(db, database.spatial, reporter=town.resident, category=town.category)
    english, thai = _worded(Language.en), _worded(Language.th)
    # Texts that are the same in both languages (the product's name) are no sign of a miss.
    untranslatable = {v for k, v in english.items() if thai.get(k) == v}
    english_only = {v for v in english.values() if len(v) > 2 and v not in untranslatable}
    for path in [*PAGES, f"/issues/{issue.public_id}"]:
        shown = visible_text((await browser.get(f"{path}?lang=th")).text)
        missed = sorted(v for v in english_only if v in shown)
        # The language switch names English in English, on purpose.
        assert missed == ["English"] or not missed, (path, missed)
        assert re.search("[\u0e00-\u0e7f]", shown), path


async def test_the_agencies_page_lists_each_agency_with_its_figures_and_definitions(
    browser: httpx.AsyncClient, town: Town
) -> None:
    page = await browser.get("/agencies?sort=on_time")
    assert page.status_code == 200
    text = visible_text(page.text)
    assert town.west.name_en in text
    assert 'aria-sort="ascending"' in page.text
    assert catalog(Language.en)["web.agencies.def.reopen"] in text
    assert '<svg role="img"' in page.text


async def test_the_desk_asks_staff_to_sign_in_and_refuses_a_wrong_password(
    browser: httpx.AsyncClient, town: Town
) -> None:
    away = await browser.get("/desk")
    assert away.status_code == 303
    assert away.headers["location"].startswith("/sign-in")
    form = (await browser.get(away.headers["location"])).text
    assert 'type="email"' in form
    assert 'type="password"' in form
    wrong = await browser.post(
        "/sign-in",
        data={"csrf_token": csrf_of(form), "email": town.clerk.email, "password": "nope"},
    )
    assert wrong.status_code == 401
    assert 'role="alert"' in wrong.text
    assert "civicloop_session" not in wrong.headers.get("set-cookie", "")


async def test_districts_come_as_geojson_for_the_map(
    browser: httpx.AsyncClient, town: Town
) -> None:
    answer = await browser.get("/api/v1/districts")
    assert answer.headers["content-type"] == "application/geo+json"
    body = json.loads(answer.content)
    assert [f["id"] for f in body["features"]] == ["city", "west"]
    assert body["features"][1]["geometry"]["type"] == "MultiPolygon"


async def test_a_staff_step_on_the_desk_is_the_lifecycle_step(
    browser: httpx.AsyncClient, town: Town, db: Session, database: Database
) -> None:
    issue = make_issue(db, database.spatial, reporter=town.resident, category=town.category)
    form = (await browser.get("/sign-in")).text
    signed = await browser.post(
        "/sign-in",
        data={
            "csrf_token": csrf_of(form),
            "email": town.clerk.email,
            "password": "correct horse battery staple",
            "next": "/desk",
        },
    )
    assert signed.status_code == 303
    assert signed.headers["location"] == "/desk"
    desk = (await browser.get("/desk")).text
    assert issue.title in desk
    assert ">Claim</button>" in desk
    version = re.search(
        rf'/desk/issues/{issue.public_id}\?lang=en".*?name="version" value="(\d+)"', desk, re.S
    )
    assert version is not None
    claimed = await browser.post(
        f"/desk/issues/{issue.public_id}",
        data={
            "csrf_token": csrf_of(desk),
            "version": version[1],
            "action": "claim",
            "note": "On our way",
        },
    )
    assert claimed.status_code == 303
    # The same version again is stale: a colleague's page cannot undo the change.
    stale = await browser.post(
        f"/desk/issues/{issue.public_id}",
        data={"csrf_token": csrf_of(desk), "version": version[1], "action": "start"},
    )
    assert stale.status_code == 412
    db.expire_all()
    stored = db.get(Issue, issue.id)
    assert stored is not None
    assert stored.status == IssueStatus.acknowledged
    public = visible_text((await browser.get(f"/issues/{issue.public_id}")).text)
    assert "On our way" in public


async def test_a_report_without_a_photo_is_accepted_from_the_plain_form(
    browser: httpx.AsyncClient, town: Town, db: Session
) -> None:
    """A browser sends the file input even when no file was chosen: an empty, nameless part."""
    form = (await browser.get("/report")).text
    sent = await browser.post(
        "/report",
        data={
            "csrf_token": csrf_of(form),
            "idempotency_key": field_of(form, "idempotency_key"),
            "latitude": str(IN_WEST[1]),
            "longitude": str(IN_WEST[0]),
            "category": town.category.code,
            "title": "Pothole",
        },
        files={"photo": ("", b"", "application/octet-stream")},
    )
    assert sent.status_code == 303, sent.text
    assert count(db, Issue) == 1


async def test_the_desk_claims_every_ticked_issue_at_once(
    browser: httpx.AsyncClient, town: Town, db: Session, database: Database
) -> None:
    first, second = (
        make_issue(db, database.spatial, reporter=town.resident, category=town.category)
        for _ in range(2)
    )
    form = (await browser.get("/sign-in")).text
    await browser.post(
        "/sign-in",
        data={"csrf_token": csrf_of(form), "email": town.clerk.email, "password": PASSWORD},
    )
    desk = (await browser.get("/desk")).text
    ticks = re.findall(r'name="issue" value="([A-Z0-9]+:\d+)" form="bulk"', desk)
    assert sorted(t.split(":")[0] for t in ticks) == sorted([first.public_id, second.public_id])
    done = await browser.post(
        "/desk/bulk", data={"csrf_token": csrf_of(desk), "action": "claim", "issue": ticks}
    )
    assert done.status_code == 303
    assert "done=2&failed=0" in done.headers["location"]
    db.expire_all()
    assert {db.get(Issue, i.id).status for i in (first, second)} == {IssueStatus.acknowledged}  # type: ignore[union-attr]


async def test_the_desk_chart_has_a_point_for_every_day_even_a_quiet_one(
    browser: httpx.AsyncClient, town: Town, db: Session, database: Database
) -> None:
    early, late = (
        make_issue(db, database.spatial, reporter=town.resident, category=town.category)
        for _ in range(2)
    )
    early.created_at = late.created_at - dt.timedelta(days=3)
    for issue in (early, late):  # the agency's figures count the issues it has taken on
        issue.agency_id = town.clerk.agency_id
    db.commit()
    form = (await browser.get("/sign-in")).text
    await browser.post(
        "/sign-in",
        data={"csrf_token": csrf_of(form), "email": town.clerk.email, "password": PASSWORD},
    )
    desk = (await browser.get("/desk")).text
    attribute = re.search(r'data-chart="([^"]*)"', desk)
    assert attribute is not None, "the desk has no chart"
    chart = json.loads(html.unescape(attribute[1]))
    first = dt.date.fromisoformat(chart["days"][0])
    assert chart["days"] == [(first + dt.timedelta(days=n)).isoformat() for n in range(4)]
    assert chart["reported"] == [1, 0, 0, 1]
    assert chart["resolved"] == [0, 0, 0, 0]
