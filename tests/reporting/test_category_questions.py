"""Categories carry questions (Open311 attributes); reports answer them, checked by one rule."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import Role
from tests.factories import IN_WEST, bearer, make_agency, make_user

FLOODING: dict[str, Any] = {
    "code": "flooding",
    "group": "water",
    "name_th": "น้ำท่วม",
    "name_en": "Flooding",
    "acknowledge_target_hours": 4,
    "resolve_target_hours": 48,
    "attributes": [
        {
            "code": "depth_cm",
            "datatype": "number",
            "required": True,
            "order": 1,
            "description": "How deep is the water, in centimetres?",
        },
        {
            "code": "passable",
            "datatype": "singlevaluelist",
            "order": 2,
            "description": "Can vehicles pass?",
            "values": [{"key": "yes", "name": "Yes"}, {"key": "no", "name": "No"}],
        },
    ],
}


async def test_an_admin_defines_questions_and_reports_answer_them(
    client: httpx.AsyncClient, db: Session, settings: Settings
) -> None:
    admin = make_user(db, Role.admin)
    created = await client.post(
        "/api/v1/categories", headers=bearer(settings, admin), json=FLOODING
    )
    assert created.status_code == 201, created.text
    assert [a["code"] for a in created.json()["attributes"]] == ["depth_cm", "passable"]
    listed = (await client.get("/api/v1/categories")).json()
    # Each value says whether choosing it makes the report an emergency (tests/emergencies).
    assert listed[0]["attributes"][1]["values"] == [
        {"key": "yes", "name": "Yes", "emergency": False},
        {"key": "no", "name": "No", "emergency": False},
    ]
    make_agency(db, categories=[])
    citizen = bearer(settings, make_user(db))
    report = {
        "category": "flooding",
        "title": "Soi under water",
        "latitude": IN_WEST[1],
        "longitude": IN_WEST[0],
    }
    missing = await client.post("/api/v1/issues", headers=citizen, json=report)
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["location"] == "body.attributes.depth_cm"
    answered = await client.post(
        "/api/v1/issues",
        headers=citizen,
        json={**report, "attributes": {"depth_cm": "30", "passable": "no"}},
    )
    assert answered.status_code == 201, answered.text
    assert answered.json()["attributes"] == {"depth_cm": 30, "passable": "no"}


async def test_malformed_question_definitions_are_refused(
    client: httpx.AsyncClient, db: Session, settings: Settings
) -> None:
    admin = bearer(settings, make_user(db, Role.admin))
    depth, passable = FLOODING["attributes"]
    no_values = {**passable, "values": []}
    same_order = {**passable, "order": 1}
    for attributes in ([no_values], [depth, same_order]):
        refused = await client.post(
            "/api/v1/categories", headers=admin, json={**FLOODING, "attributes": attributes}
        )
        assert refused.status_code == 422, refused.text
