"""A small town for routing: two districts, a city-wide department, and an agency that covers
the west district but handles other problems."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import Agency, Category, Role
from tests.factories import (
    CITY,
    EAST_DISTRICT,
    WEST_DISTRICT,
    bearer,
    if_match,
    make_agency,
    make_category,
)
from tests.factories import make_user as _make_user


@dataclass(frozen=True)
class Town:
    pothole: Category
    streetlight: Category
    unhandled: Category  # no agency handles it anywhere
    west: Agency  # potholes in the west district
    east: Agency  # potholes in the east district
    metro: Agency  # potholes and street lights in the whole city
    lights_west: Agency  # street lights only, in the west district
    staff: dict[str, dict[str, str]]  # agency slug -> an agent's auth headers
    admin: dict[str, str]
    citizen: dict[str, str]
    citizen_id: int


def build_town(db: Session, settings: Settings) -> Town:
    pothole = make_category(db, "pothole")
    streetlight = make_category(db, "streetlight")
    unhandled = make_category(db, "graffiti")
    agencies = {
        "west": make_agency(db, bounds=WEST_DISTRICT, categories=[pothole], slug="west"),
        "east": make_agency(db, bounds=EAST_DISTRICT, categories=[pothole], slug="east"),
        "metro": make_agency(db, bounds=CITY, categories=[pothole, streetlight], slug="metro"),
        "lights-west": make_agency(
            db, bounds=WEST_DISTRICT, categories=[streetlight], slug="lights-west"
        ),
    }
    citizen = _make_user(db)
    return Town(
        pothole=pothole,
        streetlight=streetlight,
        unhandled=unhandled,
        west=agencies["west"],
        east=agencies["east"],
        metro=agencies["metro"],
        lights_west=agencies["lights-west"],
        staff={
            slug: bearer(settings, _make_user(db, Role.agent, agency=agency))
            for slug, agency in agencies.items()
        },
        admin=bearer(settings, _make_user(db, Role.admin)),
        citizen=bearer(settings, citizen),
        citizen_id=citizen.id,
    )


async def report(
    client: httpx.AsyncClient, town: Town, category: str, at: tuple[float, float]
) -> str:
    """A citizen reports over HTTP; the new issue's public id."""
    response = await client.post(
        "/api/v1/issues",
        headers=town.citizen,
        json={
            "category": category,
            "title": "Something to fix",
            "longitude": at[0],
            "latitude": at[1],
        },
    )
    assert response.status_code == 201, response.text
    public_id: str = response.json()["id"]
    return public_id


async def queue(client: httpx.AsyncClient, town: Town, agency: Agency) -> list[str]:
    """Ids in the agency's queue, as its own agent sees it."""
    response = await client.get(
        f"/api/v1/agencies/{agency.id}/queue", headers=town.staff[agency.slug]
    )
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def queues(client: httpx.AsyncClient, town: Town) -> dict[str, list[str]]:
    agencies = (town.west, town.east, town.metro, town.lights_west)
    return {a.slug: await queue(client, town, a) for a in agencies}


async def unrouted(client: httpx.AsyncClient, town: Town) -> list[str]:
    response = await client.get("/api/v1/issues/unrouted", headers=town.admin)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def act(
    client: httpx.AsyncClient, headers: dict[str, str], issue_id: str, **body: Any
) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/issues/{issue_id}/transitions",
        headers=await if_match(client, issue_id, headers),
        json=body,
    )
    assert response.status_code == 200, response.text
    issue: dict[str, Any] = response.json()
    return issue
