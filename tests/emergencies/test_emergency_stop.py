"""Emergencies are not reports: a category or an answer marked emergency stops the report on
every channel with the emergency number of the point's district (else the city's), stores
nothing of it, and is counted."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import AttributeDatatype, Category, District, Issue, Role
from tests.conftest import AppFor, http_client
from tests.factories import (
    EAST_DISTRICT,
    IN_EAST,
    IN_WEST,
    WEST_DISTRICT,
    attribute,
    count,
    make_agency,
    make_api_key,
    make_category,
    make_district,
    make_user,
)
from tests.open311.helpers import JSON

DEVICE = {"X-Device-Id": "a3c1e7f0-emergency-device-0001"}


@pytest.fixture
def categories(db: Session) -> dict[str, Category]:
    gas = make_category(db, "gas_leak")
    gas.emergency = True
    tree = make_category(
        db,
        "fallen_tree",
        attributes=[
            attribute(
                "danger",
                AttributeDatatype.singlevaluelist,
                order=1,
                values=[("yes", "Someone is hurt or trapped"), ("no", "No one is in danger")],
            )
        ],
    )
    tree.attributes[0].values = [
        {"key": "yes", "name": "Someone is hurt or trapped", "emergency": True},
        {"key": "no", "name": "No one is in danger", "emergency": False},
    ]
    db.commit()
    make_agency(db, categories=[gas, tree])
    return {"gas": gas, "tree": tree}


@pytest.fixture
def districts(db: Session) -> dict[str, District]:
    west = make_district(db, "west", WEST_DISTRICT)
    west.emergency_number = "1669"
    east = make_district(db, "east", EAST_DISTRICT)  # no number of its own
    db.commit()
    return {"west": west, "east": east}


@pytest.fixture
def app(settings: Settings, app_for: AppFor) -> FastAPI:
    return app_for(settings.model_copy(update={"emergency_number": "191"}))


def report(at: tuple[float, float], category: str, **attributes: str) -> dict[str, object]:
    return {
        "category": category,
        "title": "Help",
        "latitude": at[1],
        "longitude": at[0],
        "attributes": attributes,
    }


async def stats(client: httpx.AsyncClient) -> dict[str, object]:
    response = await client.get("/api/v1/stats/emergencies")
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


@pytest.mark.usefixtures("districts")
async def test_an_emergency_category_stops_the_report_with_the_districts_number(
    db: Session, app: FastAPI, categories: dict[str, Category]
) -> None:
    async with http_client(app) as client:
        response = await client.post(
            "/api/v1/issues", headers=DEVICE, json=report(IN_WEST, "gas_leak")
        )
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        assert problem["type"].endswith("/emergency")
        assert problem["emergency_number"] == "1669"
        assert "call 1669 now" in problem["detail"]
        thai = await client.post(
            "/api/v1/issues",
            headers={**DEVICE, "Accept-Language": "th"},
            json=report(IN_WEST, "gas_leak"),
        )
        assert thai.status_code == 422
        assert "โปรดโทร 1669 ทันที" in thai.json()["detail"]
        assert count(db, Issue) == 0
        assert await stats(client) == {
            "total": 2,
            "by_category": [{"category": "gas_leak", "count": 2}],
            "by_channel": [{"channel": "api", "count": 2}],
        }


@pytest.mark.usefixtures("districts")
async def test_an_emergency_answer_stops_it_where_the_district_has_no_number_the_citys(
    db: Session, app: FastAPI, categories: dict[str, Category]
) -> None:
    async with http_client(app) as client:
        stopped = await client.post(
            "/api/v1/issues", headers=DEVICE, json=report(IN_EAST, "fallen_tree", danger="yes")
        )
        assert stopped.status_code == 422, stopped.text
        assert stopped.json()["emergency_number"] == "191"
        # The same report with no one in danger is an ordinary report.
        ordinary = await client.post(
            "/api/v1/issues", headers=DEVICE, json=report(IN_EAST, "fallen_tree", danger="no")
        )
        assert ordinary.status_code == 201, ordinary.text
        assert count(db, Issue) == 1
        counted = await stats(client)
        assert counted["total"] == 1
        assert counted["by_category"] == [{"category": "fallen_tree", "count": 1}]


async def test_without_any_number_it_says_to_call_the_local_one(
    db: Session, settings: Settings, app_for: AppFor, categories: dict[str, Category]
) -> None:
    async with http_client(app_for(settings)) as client:
        response = await client.post(
            "/api/v1/issues", headers=DEVICE, json=report(IN_WEST, "gas_leak")
        )
    assert response.status_code == 422
    assert response.json().get("emergency_number") is None
    assert "call your local emergency number now" in response.json()["detail"]


@pytest.mark.usefixtures("districts")
async def test_open311_stops_it_too_with_the_number_in_its_error_list(
    db: Session, app: FastAPI, categories: dict[str, Category]
) -> None:
    key = make_api_key(db, make_user(db, Role.citizen))
    form = {
        "api_key": key,
        "service_code": "fallen_tree",
        "lat": str(IN_WEST[1]),
        "long": str(IN_WEST[0]),
        "description": "A tree fell on a car",
        "attribute[danger]": "yes",
    }
    async with http_client(app) as client:
        response = await client.post("/open311/v2/requests.json", data=form)
        assert response.status_code == 400, response.text
        assert response.headers["content-type"] == JSON
        [error] = response.json()
        assert error["code"] == 400
        assert "call 1669 now" in error["description"]
        assert count(db, Issue) == 0
        counted = await stats(client)
        assert counted["by_channel"] == [{"channel": "open311", "count": 1}]


async def test_categories_say_which_are_emergencies_before_anyone_reports(
    client: httpx.AsyncClient, categories: dict[str, Category]
) -> None:
    listed = {c["code"]: c for c in (await client.get("/api/v1/categories")).json()}
    assert listed["gas_leak"]["emergency"] is True
    assert listed["fallen_tree"]["emergency"] is False
    assert listed["fallen_tree"]["attributes"][0]["values"][0] == {
        "key": "yes",
        "name": "Someone is hurt or trapped",
        "emergency": True,
    }
