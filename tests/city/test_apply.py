"""`civicloop city apply`: a city that is not Bangkok (English only, not one Thai name) moves in
from one file; applying it again changes nothing; an edit changes exactly that; reports there are
routed and placed in their districts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import city
from app.city import Change
from app.config import Settings
from app.models import Agency, Category, City, District, Role
from app.spatial import backend_for
from tests.city.conftest import IN_101, IN_102, IN_301, IN_THE_ATLANTIC, NYC_YAML
from tests.factories import bearer, make_user

DEVICE = {"X-Device-Id": "nyc-city-file-test-device", "Accept-Language": "en"}


def _apply(db: Session, path: Path) -> list[Change]:
    changes = city.apply(db, city=city.load(path), spatial=backend_for(db.get_bind().engine))
    db.commit()
    return changes


async def _report(client: httpx.AsyncClient, category: str, at: tuple[float, float]) -> Any:
    response = await client.post(
        "/api/v1/issues",
        headers=DEVICE,
        json={"category": category, "title": "Needs fixing", "longitude": at[0], "latitude": at[1]},
    )
    assert response.status_code == 201, response.text
    return response.json()


async def _queue(client: httpx.AsyncClient, agency_id: int, headers: dict[str, str]) -> list[str]:
    response = await client.get(f"/api/v1/agencies/{agency_id}/queue", headers=headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def test_a_new_city_is_created_from_scratch_and_a_second_run_changes_nothing(
    db: Session, nyc_file: Path
) -> None:
    created = _apply(db, nyc_file)
    kinds = [(c.action, c.kind) for c in created]
    # 71 community districts (149 polygons: districts with islands are one district each).
    assert kinds.count(("create", "district")) == 71
    assert kinds.count(("create", "category")) == 4  # three listed and the general one
    assert kinds.count(("create", "agency")) == 2
    assert kinds.count(("create", "city")) == 1

    [nyc] = db.scalars(select(City))
    assert (nyc.default_language, nyc.languages, nyc.time_zone) == (
        "en",
        ["en", "es"],
        "America/New_York",
    )
    assert nyc.general_category_code == "general"
    pothole = db.scalar(select(Category).where(Category.code == "pothole"))
    assert pothole is not None
    # English only: the Thai name the API shows falls back to the city's default language.
    assert (pothole.name_en, pothole.name_th) == ("Street Condition", "Street Condition")
    assert pothole.names == {"en": "Street Condition", "es": "Condición de la calle"}
    assert pothole.group == "streets"
    manhattan_1 = db.scalar(select(District).where(District.code == "101"))
    assert manhattan_1 is not None
    assert len(manhattan_1.area.geoms) == 4  # the islands too

    assert _apply(db, nyc_file) == []


def test_an_edit_changes_exactly_that(db: Session, nyc_file: Path) -> None:
    _apply(db, nyc_file)
    nyc_file.write_text(
        NYC_YAML.replace("resolve_hours: 72", "resolve_hours: 96").replace(
            "cb1@example.org", "board1@example.org"
        )
    )
    dry_run = city.apply(db, city=city.load(nyc_file), spatial=backend_for(db.get_bind().engine))
    db.rollback()
    assert [str(c) for c in dry_run] == [
        "update category noise: resolve_target_hours",
        "update agency cb-lower-manhattan: email",
    ]
    assert _apply(db, nyc_file) == dry_run
    noise = db.scalar(select(Category).where(Category.code == "noise"))
    assert noise is not None
    assert noise.resolve_target_hours == 96
    assert _apply(db, nyc_file) == []


async def test_reports_there_are_routed_and_placed_in_their_districts(
    client: httpx.AsyncClient, db: Session, nyc_file: Path, settings: Settings
) -> None:
    _apply(db, nyc_file)
    ids = {a.slug: a.id for a in db.scalars(select(Agency))}
    dot = bearer(settings, make_user(db, Role.agent, agency=db.get(Agency, ids["dot"])))
    board = bearer(
        settings, make_user(db, Role.agent, agency=db.get(Agency, ids["cb-lower-manhattan"]))
    )
    admin = bearer(settings, make_user(db, Role.admin))

    light = await _report(client, "street-light", IN_301)
    noise_village = await _report(client, "noise", IN_102)
    noise_brooklyn = await _report(client, "noise", IN_301)
    other = await _report(client, "general", IN_101)
    at_sea = await _report(client, "pothole", IN_THE_ATLANTIC)

    assert [r["district"]["code"] for r in (light, noise_village, noise_brooklyn, other)] == [
        "301",
        "102",
        "301",
        "101",
    ]
    assert at_sea["district"] is None
    assert await _queue(client, ids["dot"], dot) == [light["id"]]
    assert await _queue(client, ids["cb-lower-manhattan"], board) == [noise_village["id"]]
    triage = await client.get("/api/v1/issues/unrouted", headers=admin)
    assert {i["id"] for i in triage.json()["items"]} == {
        noise_brooklyn["id"],
        other["id"],
        at_sea["id"],
    }
    assert noise_brooklyn["triage"] is True
    assert noise_brooklyn["notice"]

    by_district = await client.get("/api/v1/stats/counts/district")
    assert by_district.status_code == 200, by_district.text
    counts = {c["key"]: c["count"] for c in by_district.json()["counts"]}
    assert counts == {"301": 2, "101": 1, "102": 1, None: 1}
