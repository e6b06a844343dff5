"""A small city for the GeoReport tests: a service with questions, one without, an agency that
handles both in the west district, and an integration holding an API key."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import AttributeDatatype, Category, Role, User
from tests.factories import attribute, make_agency, make_api_key, make_category, make_user

JURISDICTION = "bangkok.example"
V2 = "/open311/v2"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"timezone": "Asia/Bangkok", "open311_jurisdiction_id": JURISDICTION}
    )


@dataclass(frozen=True)
class Open311City:
    pothole: Category  # metadata=true: four questions, "size" required
    light: Category  # metadata=false
    agent: User
    integration: User
    api_key: str


@pytest.fixture
def city(db: Session) -> Open311City:
    pothole = make_category(
        db,
        "pothole",
        acknowledge_hours=24,
        resolve_hours=168,
        attributes=[
            attribute(
                "size",
                AttributeDatatype.singlevaluelist,
                order=1,
                required=True,
                values=[("small", "Smaller than a plate"), ("large", "Larger than a wheel")],
            ),
            attribute(
                "lanes",
                AttributeDatatype.multivaluelist,
                order=2,
                values=[("lane", "Traffic lane"), ("shoulder", "Shoulder"), ("bike", "Bike lane")],
            ),
            attribute("depth_cm", AttributeDatatype.number, order=3),
            attribute("since", AttributeDatatype.datetime, order=4),
            attribute("notice", AttributeDatatype.text, order=5, variable=False),
        ],
    )
    light = make_category(db, "streetlight")
    west = make_agency(db, categories=[pothole, light], slug="west")
    integration = make_user(db)
    return Open311City(
        pothole=pothole,
        light=light,
        agent=make_user(db, Role.agent, agency=west),
        integration=integration,
        api_key=make_api_key(db, integration),
    )
