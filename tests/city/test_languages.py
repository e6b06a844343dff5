"""A city's languages besides Thai and English are served: a reader who accepts Spanish gets
the Spanish names the city file gave (categories, agencies, Open311 services, issues,
SeeClickFix request types); a name the file gave only in the default language stays in it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.orm import Session

from app import city
from app.spatial import backend_for
from tests.city.conftest import IN_301

SPANISH = {"Accept-Language": "es-US,es;q=0.9,en;q=0.5"}
FRENCH = {"Accept-Language": "fr"}


def _names(items: list[dict[str, Any]], key: str, name: str) -> dict[str, str]:
    return {item[key]: item[name] for item in items}


async def test_a_reader_of_another_city_language_gets_its_names(
    client: httpx.AsyncClient, db: Session, nyc_file: Path
) -> None:
    city.apply(db, city=city.load(nyc_file), spatial=backend_for(db.get_bind().engine))
    db.commit()

    categories = await client.get("/api/v1/categories", headers=SPANISH)
    assert categories.status_code == 200
    assert "accept-language" in categories.headers["vary"].lower()
    by_code = _names(categories.json(), "code", "name")
    assert by_code["pothole"] == "Condición de la calle"
    assert by_code["street-light"] == "Street Light Condition"  # no Spanish name: the default
    french = _names((await client.get("/api/v1/categories", headers=FRENCH)).json(), "code", "name")
    assert french["pothole"] == "Street Condition"  # not a city language: the default language

    services = (await client.get("/open311/v2/services.json", headers=SPANISH)).json()
    assert _names(services, "service_code", "service_name")["pothole"] == "Condición de la calle"
    english = (await client.get("/open311/v2/services.json")).json()
    assert _names(english, "service_code", "service_name")["pothole"] == "Street Condition"

    reported = await client.post(
        "/api/v1/issues",
        headers={"X-Device-Id": "nyc-languages-device"},
        json={
            "category": "pothole",
            "title": "Hole",
            "longitude": IN_301[0],
            "latitude": IN_301[1],
        },
    )
    assert reported.status_code == 201, reported.text
    issue = (await client.get(f"/api/v1/issues/{reported.json()['id']}", headers=SPANISH)).json()
    assert issue["category"]["name"] == "Condición de la calle"
    assert issue["district"]["name"] == "301"
    [request] = (
        await client.get(f"/open311/v2/requests/{reported.json()['id']}.json", headers=SPANISH)
    ).json()
    assert request["service_name"] == "Condición de la calle"
    agencies = (await client.get("/api/v1/agencies", headers=SPANISH)).json()
    assert _names(agencies, "slug", "name")["dot"] == "Departamento de Transporte"

    types = (await client.get("/seeclickfix/api/v2/request_types", headers=SPANISH)).json()
    assert "Condición de la calle" in {t["title"] for t in types["request_types"]}


async def test_an_answer_in_another_city_language_says_so_in_content_language(
    client: httpx.AsyncClient, db: Session, nyc_file: Path
) -> None:
    city.apply(db, city=city.load(nyc_file), spatial=backend_for(db.get_bind().engine))
    db.commit()
    reported = await client.post(
        "/api/v1/issues",
        headers={"X-Device-Id": "nyc-content-language-device"},
        json={
            "category": "pothole",
            "title": "Hole",
            "longitude": IN_301[0],
            "latitude": IN_301[1],
        },
    )
    assert reported.status_code == 201, reported.text
    issue_id = reported.json()["id"]
    answers = (
        "/api/v1/categories",
        "/api/v1/agencies",
        f"/api/v1/issues/{issue_id}",
        "/open311/v2/services.json",
        "/open311/v2/services.xml",
        f"/open311/v2/requests/{issue_id}.json",
        "/seeclickfix/api/v2/request_types",
        "/seeclickfix/api/v2/issues",
    )
    for path in answers:
        spanish = await client.get(path, headers=SPANISH)
        assert spanish.status_code == 200, (path, spanish.text)
        assert spanish.headers["content-language"] == "es", path
        assert "accept-language" in spanish.headers["vary"].lower(), path
        # Not a city language: the default's words, and the header says which.
        french = await client.get(path, headers=FRENCH)
        assert french.headers["content-language"] == "en", path
        english = await client.get(path, headers={"Accept-Language": "en"})
        assert english.headers["content-language"] == "en", path
