"""Photos are served exactly as stored, cacheable and unsniffable; staff can hide one from the
public, which then cannot find it anywhere, and the audit trail says who did it."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import Database
from tests.conftest import AppFor, http_client
from tests.factories import bearer
from tests.lifecycle.helpers import City, problem_type, report, stored_events
from tests.photos import images
from tests.photos.helpers import Stored, metadata_of, upload


async def _one_photo(
    client: httpx.AsyncClient, db: Session, database: Database, settings: Settings, city: City
) -> tuple[str, dict[str, object]]:
    issue_id = report(db, database, city)
    response = await upload(
        client, settings, city.reporter, issue_id, ("p.jpg", images.phone_jpeg(2000, 1500))
    )
    assert response.status_code == 201, response.text
    photo: dict[str, object] = response.json()[0]
    return issue_id, photo


def _url(photo: dict[str, object], variant: str) -> str:
    urls = photo["urls"]
    assert isinstance(urls, dict)
    url: str = urls[variant]
    return url


@pytest.mark.parametrize("backend", ["local"])
async def test_a_photo_is_served_with_its_stored_type_nosniff_long_cache_and_etag(
    client: httpx.AsyncClient,
    db: Session,
    database: Database,
    settings: Settings,
    city: City,
    stored: Stored,
) -> None:
    _, photo = await _one_photo(client, db, database, settings, city)

    served = await client.get(_url(photo, "display"), headers={"Accept-Encoding": "gzip"})

    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
    assert "content-encoding" not in served.headers  # a JPEG is compressed already
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
    etag = served.headers["etag"]
    (key,) = [k for k in stored.list_keys() if etag.strip('"') in k]
    assert served.content == stored.read(key)
    assert metadata_of(served.content) == {}
    again = await client.get(_url(photo, "display"), headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""


@pytest.mark.parametrize("backend", ["s3"])
async def test_the_bucket_can_hand_out_presigned_urls(
    db: Session, database: Database, settings: Settings, city: City, app_for: AppFor
) -> None:
    presigning = settings.model_copy(update={"s3_presigned_urls": True})
    async with http_client(app_for(presigning)) as client:
        _, photo = await _one_photo(client, db, database, presigning, city)
        display = _url(photo, "display")
        assert display.startswith(f"{settings.s3_endpoint_url}/{settings.s3_bucket}/photos/")
        assert "Signature=" in display
        via_api = await client.get(f"/api/v1/photos/{photo['id']}/thumbnail")
        assert via_api.status_code == 307
        assert "Signature=" in via_api.headers["location"]
    async with httpx.AsyncClient(trust_env=False) as bucket_client:
        fetched = await bucket_client.get(display)
    assert fetched.status_code == 200
    assert fetched.headers["content-type"] == "image/jpeg"
    assert metadata_of(fetched.content) == {}


async def test_staff_hide_a_photo_and_the_public_can_no_longer_find_it(
    client: httpx.AsyncClient,
    db: Session,
    database: Database,
    settings: Settings,
    city: City,
) -> None:
    issue_id, photo = await _one_photo(client, db, database, settings, city)
    hide = {"hidden": True, "note": "Shows a face and a car plate"}

    refused = await client.patch(
        f"/api/v1/photos/{photo['id']}", headers=bearer(settings, city.stranger), json=hide
    )
    assert refused.status_code == 403
    hidden = await client.patch(
        f"/api/v1/photos/{photo['id']}", headers=bearer(settings, city.agent), json=hide
    )
    assert hidden.status_code == 200, hidden.text
    assert hidden.json()["hidden"] is True

    public = (await client.get(f"/api/v1/issues/{issue_id}")).json()
    assert public["photos"] == []
    assert (await client.get(f"/api/v1/issues/{issue_id}/photos")).json() == []
    for variant in ("thumbnail", "display", "full"):
        gone = await client.get(f"/api/v1/photos/{photo['id']}/{variant}")
        assert gone.status_code == 404
        assert problem_type(gone) == "not-found"
    reporter_view = await client.get(
        f"/api/v1/issues/{issue_id}", headers=bearer(settings, city.reporter)
    )
    assert reporter_view.json()["photos"] == []

    staff = bearer(settings, city.agent)
    staff_view = (await client.get(f"/api/v1/issues/{issue_id}", headers=staff)).json()
    assert [p["hidden"] for p in staff_view["photos"]] == [True]
    staff_copy = await client.get(_url(photo, "display"), headers=staff)
    assert staff_copy.status_code == 200
    assert staff_copy.headers["cache-control"].startswith("private")

    events = stored_events(database, issue_id)
    assert [(e.action, e.is_public, e.actor_id) for e in events[-1:]] == [
        ("photo_hidden", False, city.agent.id)
    ]
    assert events[-1].note == "Shows a face and a car plate"
    assert events[-1].photo_id == photo["id"]
    public_timeline = (await client.get(f"/api/v1/issues/{issue_id}/events")).json()
    assert "photo_hidden" not in [e["action"] for e in public_timeline]

    shown = await client.patch(
        f"/api/v1/photos/{photo['id']}",
        headers=bearer(settings, city.admin),
        json={"hidden": False},
    )
    assert shown.status_code == 200
    assert (await client.get(_url(photo, "thumbnail"))).status_code == 200
    assert stored_events(database, issue_id)[-1].action == "photo_restored"


async def test_adding_a_photo_changes_the_issue_etag(
    client: httpx.AsyncClient,
    db: Session,
    database: Database,
    settings: Settings,
    city: City,
) -> None:
    issue_id = report(db, database, city)
    before = (await client.get(f"/api/v1/issues/{issue_id}")).headers["etag"]

    await upload(client, settings, city.reporter, issue_id, ("p.jpg", images.webp()))

    cached = await client.get(f"/api/v1/issues/{issue_id}", headers={"If-None-Match": before})
    assert cached.status_code == 200
    assert len(cached.json()["photos"]) == 1


async def test_the_photos_of_a_hidden_issue_are_for_its_agencies_only(
    client: httpx.AsyncClient,
    db: Session,
    database: Database,
    settings: Settings,
    city: City,
) -> None:
    issue_id, photo = await _one_photo(client, db, database, settings, city)
    hidden = await client.post(
        f"/api/v1/issues/{issue_id}/moderation",
        headers=bearer(settings, city.admin),
        json={"hidden": True, "reason": "abusive"},
    )
    assert hidden.status_code == 200
    for variant in ("thumbnail", "display"):
        gone = await client.get(f"/api/v1/photos/{photo['id']}/{variant}")
        assert gone.status_code == 404
    staff_copy = await client.get(_url(photo, "display"), headers=bearer(settings, city.agent))
    assert staff_copy.status_code == 200
    assert staff_copy.headers["cache-control"].startswith("private")
