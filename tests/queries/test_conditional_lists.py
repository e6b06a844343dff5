"""Conditional GET on lists: every page carries a weak ETag over its issues and their versions;
sending it back as If-None-Match answers 304 with no body until something on the page changes."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from app.models import Role
from tests.conftest import http_client
from tests.factories import bearer, if_match, make_agency, make_category, make_issue, make_user


async def _revalidate(
    client: httpx.AsyncClient, url: str, headers: dict[str, str] | None = None
) -> tuple[httpx.Response, httpx.Response]:
    first = await client.get(url, headers=headers)
    assert first.status_code == 200, first.text
    etag = first.headers["ETag"]
    assert etag.startswith('W/"')
    again = await client.get(url, headers={**(headers or {}), "If-None-Match": etag})
    return first, again


async def test_an_unchanged_public_page_answers_304_and_a_changed_one_200(
    db: Session, database: Database, settings: Settings, client: httpx.AsyncClient
) -> None:
    category = make_category(db, "pothole")
    agency = make_agency(db, categories=[category])
    staff = make_user(db, Role.agent, agency=agency)
    reporter = make_user(db)
    issue = make_issue(db, database.spatial, reporter=reporter, category=category)

    first, again = await _revalidate(client, "/api/v1/issues")
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["ETag"] == first.headers["ETag"]
    # A list of tags, or the tag without its weak prefix, matches too (weak comparison).
    plain = first.headers["ETag"].removeprefix("W/")
    listed = await client.get("/api/v1/issues", headers={"If-None-Match": f'"x", {plain}'})
    assert listed.status_code == 304

    # A new version of an issue on the page changes the page.
    headers = await if_match(client, issue.public_id, bearer(settings, staff))
    claimed = await client.post(
        f"/api/v1/issues/{issue.public_id}/transitions", json={"action": "claim"}, headers=headers
    )
    assert claimed.status_code == 200, claimed.text
    changed = await client.get("/api/v1/issues", headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200
    assert changed.json()["items"][0]["status"] == "acknowledged"
    assert changed.headers["ETag"] != first.headers["ETag"]

    # So does a new issue on the page.
    make_issue(db, database.spatial, reporter=reporter, category=category, title="Another")
    grown = await client.get("/api/v1/issues", headers={"If-None-Match": changed.headers["ETag"]})
    assert grown.status_code == 200
    assert len(grown.json()["items"]) == 2


async def test_each_representation_and_language_has_its_own_tag(
    db: Session, database: Database, client: httpx.AsyncClient
) -> None:
    category = make_category(db, "pothole")
    make_agency(db, categories=[category])
    make_issue(db, database.spatial, reporter=make_user(db), category=category)

    json_page = await client.get("/api/v1/issues")
    geojson = await client.get("/api/v1/issues", headers={"Accept": "application/geo+json"})
    thai = await client.get("/api/v1/issues", headers={"Accept-Language": "th"})
    tags = {r.headers["ETag"] for r in (json_page, geojson, thai)}
    assert len(tags) == 3
    cross = await client.get(
        "/api/v1/issues",
        headers={"Accept": "application/geo+json", "If-None-Match": json_page.headers["ETag"]},
    )
    assert cross.status_code == 200
    assert cross.json()["type"] == "FeatureCollection"
    geo_again = await client.get(
        "/api/v1/issues",
        headers={"Accept": "application/geo+json", "If-None-Match": geojson.headers["ETag"]},
    )
    assert geo_again.status_code == 304


async def test_a_queue_page_revalidates_for_its_staff(
    db: Session, database: Database, settings: Settings, app: FastAPI
) -> None:
    category = make_category(db, "pothole")
    agency = make_agency(db, categories=[category])
    staff = bearer(settings, make_user(db, Role.agent, agency=agency))
    issue = make_issue(db, database.spatial, reporter=make_user(db), category=category)
    url = f"/api/v1/agencies/{agency.id}/queue"
    async with http_client(app) as client:
        first, again = await _revalidate(client, url, staff)
        assert again.status_code == 304
        assert [i["id"] for i in first.json()["items"]] == [issue.public_id]
        headers = await if_match(client, issue.public_id, staff)
        await client.post(
            f"/api/v1/issues/{issue.public_id}/transitions",
            json={"action": "claim"},
            headers=headers,
        )
        after = await client.get(url, headers={**staff, "If-None-Match": first.headers["ETag"]})
        assert after.status_code == 200
        assert after.json()["items"][0]["status"] == "acknowledged"


async def test_unrouted_issues_revalidate_for_admins(
    db: Session, database: Database, settings: Settings, client: httpx.AsyncClient
) -> None:
    category = make_category(db, "pothole")
    make_issue(db, database.spatial, reporter=make_user(db), category=category)
    admin = bearer(settings, make_user(db, Role.admin))
    _, again = await _revalidate(client, "/api/v1/issues/unrouted", admin)
    assert again.status_code == 304


async def test_a_timeline_revalidates_until_a_step_is_added(
    db: Session, database: Database, settings: Settings, client: httpx.AsyncClient
) -> None:
    category = make_category(db, "pothole")
    agency = make_agency(db, categories=[category])
    staff = bearer(settings, make_user(db, Role.agent, agency=agency))
    issue = make_issue(db, database.spatial, reporter=make_user(db), category=category)
    url = f"/api/v1/issues/{issue.public_id}/events"
    first, again = await _revalidate(client, url)
    assert again.status_code == 304
    headers = await if_match(client, issue.public_id, staff)
    await client.post(
        f"/api/v1/issues/{issue.public_id}/transitions", json={"action": "claim"}, headers=headers
    )
    after = await client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert after.status_code == 200
    assert [e["action"] for e in after.json()] == ["reported", "claimed"]
