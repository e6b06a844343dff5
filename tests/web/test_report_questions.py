"""The report form asks the chosen category's questions, without JavaScript too, and stops an
emergency (the category, or an answer) with the number to call where the point is, counted as a
stop from the web, before anything is stored."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.i18n import catalog
from app.models import AttributeDatatype, Category, Issue, Language
from tests.conftest import AppFor
from tests.factories import (
    EAST_DISTRICT,
    IN_EAST,
    IN_WEST,
    WEST_DISTRICT,
    attribute,
    count,
    make_agency,
    make_category,
    make_district,
)
from tests.web.conftest import csrf_of, field_of, visible_text


@pytest.fixture
def app(settings: Settings, app_for: AppFor) -> FastAPI:
    # A city whose clocks are not Bangkok's: the form reads typed times in the city's zone.
    return app_for(
        settings.model_copy(
            update={"emergency_number": "112", "display_timezone": "America/Mexico_City"}
        )
    )


@pytest.fixture
def categories(db: Session) -> dict[str, Category]:
    gas = make_category(db, "gas_leak")
    gas.emergency = True
    tree = make_category(
        db,
        "fallen_tree",
        attributes=[
            attribute("danger", AttributeDatatype.singlevaluelist, order=1, required=True),
            attribute("since", AttributeDatatype.datetime, order=2),
            attribute(
                "blocks",
                AttributeDatatype.multivaluelist,
                order=3,
                values=[("road", "The road"), ("path", "The footpath")],
            ),
        ],
    )
    tree.attributes[0].values = [
        {"key": "yes", "name": "Someone is hurt or trapped", "emergency": True},
        {"key": "no", "name": "No one is in danger", "emergency": False},
    ]
    db.commit()
    make_agency(db, categories=[gas, tree])
    west = make_district(db, "west", WEST_DISTRICT)
    west.emergency_number = "1669"
    make_district(db, "east", EAST_DISTRICT)  # no number of its own: the city's
    db.commit()
    return {"gas": gas, "tree": tree}


def _form(page: str, at: tuple[float, float], category: str, **more: str) -> dict[str, str]:
    return {
        "csrf_token": csrf_of(page),
        "idempotency_key": field_of(page, "idempotency_key"),
        "latitude": str(at[1]),
        "longitude": str(at[0]),
        "category": category,
        **more,
    }


async def _stops(browser: httpx.AsyncClient) -> dict[str, object]:
    answer = await browser.get("/api/v1/stats/emergencies")
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


@pytest.mark.usefixtures("categories")
async def test_without_javascript_the_form_comes_back_with_the_categorys_questions(
    browser: httpx.AsyncClient, db: Session
) -> None:
    page = (await browser.get("/report")).text
    assert "Question danger" not in page
    shown = await browser.post(
        "/report", data=_form(page, IN_WEST, "fallen_tree", step="questions", title="A tree fell")
    )
    assert shown.status_code == 200, shown.text
    assert 'value="A tree fell"' in shown.text  # what was typed is kept
    text = visible_text(shown.text)
    assert "Question danger (required)" in text
    assert "No one is in danger" in text
    assert 'type="radio" name="attribute[danger]" value="no"' in shown.text
    assert 'type="checkbox" name="attribute[blocks][road]"' in shown.text
    assert 'type="datetime-local"' in shown.text
    assert count(db, Issue) == 0
    # The page's script asks the same with a GET when a category is chosen.
    fetched = await browser.get("/report?category=fallen_tree&latitude=13.72&longitude=100.52")
    assert 'name="attribute[danger]"' in fetched.text


@pytest.mark.usefixtures("categories")
async def test_the_answers_are_stored_with_the_report_and_a_typed_time_is_the_citys(
    browser: httpx.AsyncClient, db: Session
) -> None:
    page = (await browser.get("/report")).text
    sent = await browser.post(
        "/report",
        data=_form(
            page,
            IN_WEST,
            "fallen_tree",
            title="A tree fell",
            **{
                "attribute[danger]": "no",
                "attribute[since]": "2026-12-07T08:30",
                "attribute[blocks][road]": "road",
                "attribute[blocks][path]": "path",
            },
        ),
    )
    assert sent.status_code == 303, sent.text
    issue = db.scalars(select(Issue)).one()
    assert issue.attributes == {
        "danger": "no",
        "since": "2026-12-07T08:30:00-06:00",
        "blocks": ["road", "path"],
    }


@pytest.mark.usefixtures("categories")
async def test_an_unanswered_required_question_is_named_beside_it_in_the_readers_language(
    browser: httpx.AsyncClient, db: Session
) -> None:
    page = (await browser.get("/report?lang=th")).text
    refused = await browser.post(
        "/report?lang=th", data=_form(page, IN_WEST, "fallen_tree", title="ต้นไม้ล้ม")
    )
    assert refused.status_code == 422
    assert 'id="attribute-1-error"' in refused.text
    assert 'aria-describedby="attribute-1-error"' in refused.text
    assert catalog(Language.th)["web.report.fix_below"] in refused.text
    assert "Question danger" in visible_text(refused.text)
    assert count(db, Issue) == 0


async def test_an_emergency_answer_shows_the_districts_number_instead_of_sending(
    browser: httpx.AsyncClient, db: Session, categories: dict[str, Category]
) -> None:
    page = (await browser.get("/report")).text
    stopped = await browser.post(
        "/report",
        data=_form(
            page, IN_WEST, "fallen_tree", title="A tree fell", **{"attribute[danger]": "yes"}
        ),
    )
    assert stopped.status_code == 422
    assert stopped.headers["content-type"].startswith("text/html")
    assert 'id="emergency"' in stopped.text
    assert 'href="tel:1669"' in stopped.text
    assert "Call 1669" in visible_text(stopped.text)
    assert '<button type="submit" id="send" hidden>' in stopped.text
    assert count(db, Issue) == 0
    # The same answer again with no one in danger is an ordinary report.
    again = await browser.post(
        "/report",
        data=_form(
            stopped.text, IN_WEST, "fallen_tree", title="A tree fell", **{"attribute[danger]": "no"}
        ),
    )
    assert again.status_code == 303, again.text
    assert await _stops(browser) == {
        "total": 1,
        "by_category": [{"category": "fallen_tree", "count": 1}],
        "by_channel": [{"channel": "web", "count": 1}],
    }


async def test_an_emergency_category_is_stopped_as_soon_as_its_questions_are_asked(
    browser: httpx.AsyncClient, db: Session, categories: dict[str, Category]
) -> None:
    page = (await browser.get("/report?lang=th")).text
    stopped = await browser.post(
        "/report?lang=th", data=_form(page, IN_EAST, "gas_leak", step="questions")
    )
    assert stopped.status_code == 422
    # The east district has no number of its own: the city's.
    assert 'href="tel:112"' in stopped.text
    assert "โปรดโทร 112 ทันที" in stopped.text
    assert catalog(Language.th)["web.report.emergency_title"] in stopped.text
    assert count(db, Issue) == 0
    counted = await _stops(browser)
    assert counted["by_channel"] == [{"channel": "web", "count": 1}]


async def test_a_form_with_every_field_and_an_answer_is_read_whole_as_multipart(
    browser: httpx.AsyncClient, db: Session, categories: dict[str, Category]
) -> None:
    """What a browser sends: every field of the form, the answers among them, and the file
    input (empty when no photo was chosen) make a multipart body of more than eight fields."""
    page = (await browser.get("/report")).text
    fields = _form(
        page,
        IN_WEST,
        "fallen_tree",
        title="A tree fell",
        description="Across the road",
        step="questions",
        **{"attribute[danger]": "yes"},
    )
    stopped = await browser.post(
        "/report", data=fields, files={"photo": ("", b"", "application/octet-stream")}
    )
    assert stopped.status_code == 422
    assert 'href="tel:1669"' in stopped.text
    assert count(db, Issue) == 0
